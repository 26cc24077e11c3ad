"""A streamed replay (replay/streamed.py) holds what one piece of the session needs, whatever
the session's size (issue 16 item 1): loading and replaying two sessions written directly
(bench/replay_load_bench.py), of 20,000 and 100,000 calls, against sim:reference, serial and
thread-faithful, peak at the same allocated bytes within 2 MB (tracemalloc: load cannot move
it). Measured: 14.6-14.8 MB at both sizes, within 0.25 MB; a loaded session's replay grew
about 230 B per call, 18 MB over the 80,000 calls between them.

With DRVTAPE_SCALE_TESTS=1, `drvtape replay` of a 2,000,001-event session runs in its own
process under the 250 MB of peak RSS issue 16 sets (about 90 s of CPU: not in the default run).
"""

import os
import sys
import tracemalloc
from pathlib import Path

import pytest

from drvtape.replay import load_recording, replay_recording, streamed
from drvtape.replay.streamed import StreamedCalls
from drvtape.runtime.targets import parse_target
from drvtape.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
import replay_load_bench  # noqa: E402  (bench/ is not a package)
import stream_bench  # noqa: E402

SMALL, BIG = 40_001, 200_001  # events: 20,000 and 100,000 calls
PEAKS_WITHIN = 2 * 1024 * 1024  # bytes between the two peaks
SCALE_EVENTS = 2_000_001


@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> dict[int, Path]:
    return replay_load_bench.session_dbs(tmp_path_factory.mktemp("replay_window"), (SMALL, BIG))


def _load_and_replay_peak(db: Path, threads: str) -> int:
    """The peak of what loading the session and replaying it once allocated (bytes)."""
    tracemalloc.start()
    try:
        with Store.open(db) as store:
            recording = load_recording(store, "last")
        assert isinstance(recording.calls, StreamedCalls)
        report = replay_recording(recording, parse_target("sim:reference"), threads=threads)
        assert report.reproduced, report.runs
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("threads", ["serial", "faithful"])
def test_a_streamed_replay_peaks_alike_at_20k_and_100k_calls(dbs, threads, monkeypatch):
    monkeypatch.setattr(streamed, "STREAM_FROM", 10_000)
    peaks = {events: _load_and_replay_peak(db, threads) for events, db in dbs.items()}
    assert abs(peaks[BIG] - peaks[SMALL]) < PEAKS_WITHIN, peaks


@pytest.mark.skipif(os.environ.get("DRVTAPE_SCALE_TESTS") != "1" or sys.platform != "linux",
                    reason="2M events: set DRVTAPE_SCALE_TESTS=1 (peak RSS from /proc: Linux)")
@pytest.mark.parametrize("threads", ["serial", "faithful"])
def test_replaying_a_2m_event_session_stays_under_250_mb(tmp_path, threads):
    db = tmp_path / "big.db"
    replay_load_bench.write_session(db, SCALE_EVENTS)
    child = stream_bench.drvtape_child(tmp_path, "--db", str(db), "replay", "last", "--target", "sim:reference",
                                       "--threads", threads, "--quiet", "--json")
    assert child["peak_rss_mb"] < stream_bench.PEAK_RSS_BOUND_MB, child
