"""A stored session replayed a piece at a time (replay/streamed.py) ends as the same session
loaded whole does: the same report, run for run. Here every session streams (from one call)
and a piece ends at every point where no call was in flight, so each is cut as often as it
can be; a recorded thread still keeps one OS thread for the whole run."""

import sys
import textwrap
from importlib import resources

import pytest

from drvtape.errors import DrvtapeError
from drvtape.recorder.workload import parse_workload, record_workload
from drvtape.replay import call_table, load_recording, replay_recording, streamed
from drvtape.replay.streamed import StreamedCalls
from drvtape.runtime.targets import parse_target
from drvtape.store import Store

from test_replay_memory_refusal import REFUSAL, header, icinfo_session_rows

BUGS = ("exit-spin", "use-after-release", "disable-with-open", "thread-affinity")


def _workload(bug: str) -> str:
    return (resources.files("drvtape") / "workloads" / f"{bug}.toml").read_text()


def _loaded_and_streamed(db, session_id, monkeypatch):
    with Store.open(db) as store:
        loaded = load_recording(store, session_id)
    with monkeypatch.context() as m:
        m.setattr(streamed, "STREAM_FROM", 1)
        m.setattr(call_table, "PIECE", 2)
        with Store.open(db) as store:
            pieces = load_recording(store, session_id)
        assert isinstance(pieces.calls, StreamedCalls)
        assert len(pieces.calls) == len(loaded.calls) and pieces.outcome == loaded.outcome
        assert list(pieces.calls) == list(loaded.calls)  # read whole when asked so
        yield loaded, pieces


def _same_reports(loaded, pieces, target, **options):
    whole = replay_recording(loaded, parse_target(target), **options).to_json()
    streamed_report = replay_recording(pieces, parse_target(target), **options).to_json()
    assert streamed_report == whole
    return whole


@pytest.mark.parametrize("threads", ["serial", "faithful"])
@pytest.mark.parametrize("bug", BUGS)
def test_a_bundled_bug_streamed_ends_as_loaded_against_itself_and_the_reference(tmp_path, monkeypatch, bug, threads):
    result = record_workload(parse_workload(_workload(bug), bug), parse_target(f"sim:{bug}"), tmp_path / "r.db")
    for loaded, pieces in _loaded_and_streamed(tmp_path / "r.db", result.session_id, monkeypatch):
        _same_reports(loaded, pieces, f"sim:{bug}", threads=threads, repeat=2)
        _same_reports(loaded, pieces, "sim:reference", threads=threads)


def _module(tmp_path, name, body):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    sys.path.insert(0, str(tmp_path))


ROUNDS = "".join(f'[[steps]]\naction = "open"\ninstance = "i{i}"\nthread = "t{i % 3}"\n'
                 f'[[steps]]\naction = "send"\ninstance = "i{i}"\nmsg = "DRV_USER+1"\nthread = "t{i % 3}"\n'
                 f'[[steps]]\naction = "close"\ninstance = "i{i}"\nthread = "t{(i + 1) % 3}"\n' for i in range(12))


def test_a_python_driver_streamed_sees_one_os_thread_per_recorded_thread(tmp_path, monkeypatch):
    _module(tmp_path, "threadids", """
        import random, threading
        SEEN = []  # (recorded lparam1, OS thread) of each call
        def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):
            SEEN.append(threading.get_ident())
            return random.randrange(1, 1 << 32) if msg == 3 else 1
    """)
    import threadids

    result = record_workload(parse_workload(ROUNDS, "w"), parse_target("py:threadids:DriverProc"), tmp_path / "r.db")
    for loaded, pieces in _loaded_and_streamed(tmp_path / "r.db", result.session_id, monkeypatch):
        threadids.SEEN.clear()
        report = replay_recording(pieces, parse_target("py:threadids:DriverProc"), threads="faithful")
        assert report.reproduced, report.runs
        lanes = {}
        for call, ident in zip(loaded.calls, threadids.SEEN, strict=True):
            assert lanes.setdefault(call.thread, ident) == ident  # one OS thread per recorded thread, all run long
        assert len(set(lanes.values())) == len(lanes) == 3
        _same_reports(loaded, pieces, "py:threadids:DriverProc", threads="faithful", repeat=2)


def test_a_python_driver_that_never_returns_streamed_is_the_same_hang(tmp_path, monkeypatch):
    _module(tmp_path, "stuckagain", """
        import threading
        def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):
            if msg == 0xB:
                threading.Event().wait(60)
            return 1 if msg != 3 else 0x55
    """)
    wl = ROUNDS + '[[steps]]\naction = "open"\ninstance = "a"\n[[steps]]\naction = "shutdown"\n'
    result = record_workload(parse_workload(wl, "w"), parse_target("py:stuckagain:DriverProc"), tmp_path / "r.db",
                             timeout=0.3)
    for loaded, pieces in _loaded_and_streamed(tmp_path / "r.db", result.session_id, monkeypatch):
        report = _same_reports(loaded, pieces, "py:stuckagain:DriverProc", timeout=0.3)
        assert report["reproduced"] and report["outcome"]["kind"] == "hang"


def test_a_call_without_its_memory_streamed_is_refused_or_stopped_before_alike(tmp_path, monkeypatch):
    with Store.open(tmp_path / "r.db", create=True) as store:
        store.store_session(header(), icinfo_session_rows())
        session_id = str(store.resolve("last").header.id)
    for loaded, pieces in _loaded_and_streamed(tmp_path / "r.db", session_id, monkeypatch):
        for recording in (loaded, pieces):
            with pytest.raises(DrvtapeError, match=f"^cannot replay faithfully: {REFUSAL}$"):
                replay_recording(recording, parse_target("sim:reference"))
        report = _same_reports(loaded, pieces, "sim:reference", until_missing_memory=True, repeat=2)
        assert report["stopped_before"] == REFUSAL
        stopped = replay_recording(pieces, parse_target("sim:reference"), until_missing_memory=True)
        assert [c.seq for c in stopped.recording.calls] == [1] and stopped.reproduced


@pytest.mark.parametrize(("keep_for_repeats", "reads"), [(10_000, 1), (4, 3)])
def test_repeated_runs_of_a_streamed_session_read_it_once_when_it_fits_else_each_run(tmp_path, monkeypatch,
                                                                                      keep_for_repeats, reads):
    bug = "use-after-release"
    result = record_workload(parse_workload(_workload(bug), bug), parse_target(f"sim:{bug}"), tmp_path / "r.db")
    monkeypatch.setattr(streamed, "KEEP_FOR_REPEATS", keep_for_repeats)
    for loaded, pieces in _loaded_and_streamed(tmp_path / "r.db", result.session_id, monkeypatch):
        pieces.calls._whole = None  # _loaded_and_streamed read it whole: a replay reads pieces
        store, done = pieces.calls.store, []
        read_rows = store.stream_rows
        monkeypatch.setattr(store, "stream_rows", lambda pk: done.append(pk) or read_rows(pk))
        report = _same_reports(loaded, pieces, f"sim:{bug}", threads="faithful", repeat=3)
        assert report["reproduced_runs"] == 3 and len(done) == reads
