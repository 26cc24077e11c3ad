from drvtape.dllhost.bench import bench_dll_replay


def test_bench_dll_replay_reports_a_rate(wine_drivers):
    out = bench_dll_replay(2000)
    assert out["returned"] == out["messages"] == 2003
    assert out["messages_per_s"] > 0
