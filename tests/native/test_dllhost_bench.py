import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from dllhost_bench import bench_dll_replay, bench_tap_overhead, bench_tap_run  # noqa: E402  (bench/ is scripts, not a package)


def test_bench_dll_replay_reports_a_rate(wine_drivers):
    out = bench_dll_replay(2000)
    assert out["returned"] == out["messages"] == 2003
    assert out["messages_per_s"] > 0
    assert out["faithful_4_threads"]["returned"] == 2003
    assert out["faithful_4_threads"]["baton_handoffs_per_s"] > 0  # the bare 4-thread baseline beside it


def test_bench_tap_overhead_reports_per_record_costs(wine_drivers):
    out = bench_tap_overhead(1000)
    assert out["messages"] == 1000 and out["tap_ns_per_record"] > 0 and out["tape_bytes_per_message"] > 100
    assert "writefile_ns_per_record" in out or "writefile_error" in out


def test_bench_tap_run_reports_its_overhead(wine_drivers):
    out = bench_tap_run(1)
    assert out["client_alone_s"] > 0 and out["tap_run_s"] > out["client_alone_s"]
