"""bench/hook_bench.py runs: the hook's cost per message through winmm beside the tap's."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from hook_bench import bench_hook  # noqa: E402  (bench/ is scripts, not a package)


def test_bench_hook_reports_the_hook_beside_the_tap_and_the_baseline(host):
    out = bench_hook(10_000)
    assert out["messages"] == 10_000
    assert 0 < out["winmm_ns_per_message"] < out["tap_ns_per_message"]
    assert out["winmm_ns_per_message"] < out["hook_ns_per_message"]  # the hook records: it costs something
    added = out["hook_ns_per_message"] - out["winmm_ns_per_message"]
    assert abs(out["hook_added_ns_per_message"] - added) <= 0.11  # each figure rounded to 0.1 ns
