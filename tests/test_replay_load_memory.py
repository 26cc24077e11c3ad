"""What replay holds per call of a session loaded whole (issue 16 item 1), measured with
tracemalloc on two sessions written directly (bench/replay_load_bench.py, as
bench/direct_db.py writes them): the growth from the small one to the big one, per call, so
what every replay holds whatever the size (imports, the pieces rows are read in) cancels out.

The bound is per call, not one bound at every size: a loaded session's calls are held as
columns (replay/call_table.py) and the schedule has a few slots per call (docs/replay.md,
"Memory"). With a RecordedCall per call, as before, the load alone grew 256 bytes per call.
A session this big is streamed instead (test_replay_window_memory.py bounds that by a constant).
"""

import sys
import tracemalloc
from pathlib import Path

import pytest

from drvtape.replay import replay_recording
from drvtape.replay.call_table import load_table
from drvtape.runtime.targets import parse_target
from drvtape.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
import replay_load_bench  # noqa: E402  (bench/ is not a package)

SMALL, BIG = 20_001, 200_001  # events: 10,000 and 100,000 calls
LOADED_BYTES_PER_CALL = 200  # 88 B held per call after loading, ~175 B at the peak; a RecordedCall list: 256
REPLAY_BYTES_PER_CALL = 200  # planning and the schedule: a few list slots and ints per call (144 B measured)


@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> dict[int, Path]:
    return replay_load_bench.session_dbs(tmp_path_factory.mktemp("replay_load"), (SMALL, BIG))


def _traced(fn):
    """fn()'s result and the peak of what was allocated while it ran (bytes)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _load(db: Path):
    """The session loaded whole (a session this big is otherwise streamed: test_replay_window_memory.py)."""
    with Store.open(db) as store:
        stored = store.resolve("last")
        return load_table(stored.header, store.stream_rows(stored.pk), store.blobs)


def _per_call(small: tuple[int, int], big: tuple[int, int]) -> float:
    """(calls, peak bytes) of each: the bytes each further call added."""
    return (big[1] - small[1]) / (big[0] - small[0])


def test_a_loaded_session_holds_under_200_bytes_per_call(dbs):
    peaks = {}
    for events, db in dbs.items():
        recording, peak = _traced(lambda: _load(db))
        peaks[events] = (len(recording.calls), peak)
    assert peaks[BIG][0] == (BIG - 1) // 2
    assert _per_call(peaks[SMALL], peaks[BIG]) < LOADED_BYTES_PER_CALL, peaks


@pytest.mark.parametrize("threads", ["serial", "faithful"])
def test_replaying_it_against_sim_reference_reproduces_within_200_bytes_per_call(dbs, threads):
    peaks = {}
    for events, db in dbs.items():
        recording = _load(db)
        report, peak = _traced(lambda: replay_recording(recording, parse_target("sim:reference"), threads=threads))
        assert report.reproduced, report.runs
        peaks[events] = (len(recording.calls), peak)
        del recording, report
    assert _per_call(peaks[SMALL], peaks[BIG]) < REPLAY_BYTES_PER_CALL, peaks
