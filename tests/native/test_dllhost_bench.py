import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from dllhost_bench import bench_dll_replay  # noqa: E402  (bench/ is scripts, not a package)


def test_bench_dll_replay_reports_a_rate(wine_drivers):
    out = bench_dll_replay(2000)
    assert out["returned"] == out["messages"] == 2003
    assert out["messages_per_s"] > 0
