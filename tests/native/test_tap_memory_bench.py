"""bench/tap_memory_bench.py runs and its figures add up: the tape of a message with memory
holds at least the bytes the catalog says it has."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from tap_memory_bench import bench_tap_memory  # noqa: E402  (bench/ is scripts, not a package)

FRAME, PACKED, HEADERS, ICDECOMPRESS = 320 * 240 * 3, 9853, 2 * 40, 48
SOURCE, DESTINATION = 4096, 16384


def test_bench_tap_memory_reports_each_kind_beside_the_baseline(host):
    out = bench_tap_memory(10_000)
    assert out["nomemory"]["messages"] == 10_000 and 100 < out["nomemory"]["tape_bytes_per_message"] < 300
    # the output frame before and after (in/out), the packed frame, two headers and the struct
    assert out["decompress"]["tape_bytes_per_message"] > 2 * FRAME + PACKED + HEADERS + ICDECOMPRESS
    assert out["convert"]["tape_bytes_per_message"] > SOURCE + 2 * DESTINATION
    for kind in ("nomemory", "decompress", "convert"):
        assert out[kind]["tap_ns_per_message"] > out[kind]["direct_ns_per_message"] > 0
