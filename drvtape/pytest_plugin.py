"""pytest plugin: replay a recorded session as a test, like a cassette.

    @pytest.mark.drvtape("tests/tapes/exit-spin.jsonl", target="sim:exit-spin")
    def test_exit_spin_still_hangs(drvtape_replay):
        assert drvtape_replay.recording.outcome.kind == "hang"

The marker replays the session and fails the test, with the first divergence or the fault,
unless the replay ends as expected: `expect="reproduced"` (the default: the bug still happens
the same way) or `expect="not-reproduced"` (a fixed driver must no longer fail that way).
Arguments: the JSONL file or database (relative to pytest's rootdir), `target` (default:
the one recorded), `session` (UUID, prefix or 'last'; default: the file's only or last
session), `threads`, `repeat`, `timeout`. The `drvtape_replay` fixture gives the report.
"""

from pathlib import Path

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay import ReplayReport, load_recording, replay_recording
from drvtape.schema.recording import Recording, blobs_in, recording_from_rows
from drvtape.replay.target_choice import choose_target
from drvtape.formats.jsonl_reader import read_jsonl
from drvtape.present.text import outcome_text
from drvtape.schema.rows import event_to_row
from drvtape.store import Store

EXPECTATIONS = ("reproduced", "not-reproduced")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "drvtape(source, target=None, session=None, expect='reproduced', threads='faithful', "
                   "repeat=1, timeout=5.0): replay a recorded drvtape session as this test")


def _recording(source: Path, session: str | None) -> Recording:
    if not source.is_file():
        raise DrvtapeError(f"no session file or database at {source}")
    if source.suffix == ".jsonl":
        with source.open(encoding="utf-8") as lines:
            found, blobs = read_jsonl(lines, str(source))
        if session is not None:
            found = [s for s in found if str(s[0].id).startswith(session.lower())] or found[:0]
            if len(found) != 1:
                raise DrvtapeError(f"{source}: {'no' if not found else 'more than one'} session matches {session!r}")
        header, events = found[-1]
        return recording_from_rows(header, [event_to_row(ev) for ev in events], blobs_in(blobs))
    with Store.open(source) as store:
        return load_recording(store, session or "last")


_REPORT = pytest.StashKey[object]()


def _report(item) -> ReplayReport:
    """The replay the item's marker asks for, run once per test; DrvtapeError if it cannot run."""
    if _REPORT not in item.stash:
        item.stash[_REPORT] = _replay(item)
    found = item.stash[_REPORT]
    if isinstance(found, DrvtapeError):
        raise found
    return found


def _replay(item):
    marker = item.get_closest_marker("drvtape")
    if not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.drvtape needs the session's file or database")
    options = dict(marker.kwargs)
    expect = options.pop("expect", "reproduced")
    if expect not in EXPECTATIONS:
        raise pytest.UsageError(f"{item.nodeid}: expect must be one of {', '.join(EXPECTATIONS)}")
    try:
        recording = _recording(item.config.rootpath / marker.args[0], options.get("session"))
        target = choose_target(options.get("target"), recording.header.target)
        return replay_recording(recording, target, threads=options.get("threads", "faithful"),
                                repeat=options.get("repeat", 1), timeout=options.get("timeout", 5.0))
    except DrvtapeError as exc:
        return exc


@pytest.fixture
def drvtape_replay(request) -> ReplayReport:
    if request.node.get_closest_marker("drvtape") is None:
        raise pytest.UsageError(f"{request.node.nodeid}: drvtape_replay needs @pytest.mark.drvtape(SOURCE, ...)")
    try:
        return _report(request.node)
    except DrvtapeError as exc:
        pytest.fail(f"drvtape: {exc}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """The marker's verdict is part of the test's call: a replay that ends otherwise fails it."""
    marker = pyfuncitem.get_closest_marker("drvtape")
    if marker is not None:
        try:
            report = _report(pyfuncitem)
        except DrvtapeError as exc:
            pytest.fail(f"drvtape: {exc}", pytrace=False)
        expect = marker.kwargs.get("expect", "reproduced")
        if report.reproduced != (expect == "reproduced"):
            pytest.fail(_why(report, expect), pytrace=False)
    yield


def _why(report: ReplayReport, expect: str) -> str:
    recorded = report.recording.outcome
    runs = f"{report.reproduced_runs} of {len(report.runs)} run(s) reproduced it"
    if expect == "reproduced":
        other = next(o for o in report.runs if not o.same_place(recorded))
        return f"drvtape: the session did not replay as recorded ({outcome_text(recorded)}): {runs}; {outcome_text(other)}"
    return f"drvtape: the recorded failure still happens against {report.target}: {outcome_text(recorded)}; {runs}"
