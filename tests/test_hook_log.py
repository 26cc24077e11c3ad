"""The hook's two logs (drvtape/recorder/call_log.py): the C CallLog stores what the Python
LockedLog stores, the caller's thread never runs the storage, and calls after close()."""

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.recorder import Recorder, call_log
from drvtape.runtime.faults import DriverFault
from drvtape.schema.messages import DRV_OPEN, DRV_USER
from drvtape.schema.rows import ROW_COLUMNS, Kind
from drvtape.store import Store

TIMED = {ROW_COLUMNS.index("ts_ns"), ROW_COLUMNS.index("duration_ns")}
U64, S64 = (1 << 64) - 1, 1 << 63


def test_the_c_log_is_built():
    assert call_log.NativeLog is not None, "drvtape.store.sqlite_rows is not built (pip install -e . builds it)"


@pytest.fixture(params=["c", "python"])
def log_kind(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(call_log, "NativeLog", None)
    return request.param


def untimed(rows) -> list[tuple]:
    return [tuple(v for i, v in enumerate(row) if i not in TIMED) for row in rows]


def stored_rows(store: Store, pk: int) -> list[tuple]:
    return untimed(store.rows(pk))


# a step: (driver_id, hdrvr, msg, lparam1, lparam2, what the driver does)
ARG = st.one_of(st.integers(-S64 - 2, U64 + 2), st.sampled_from([True, 1.5, 0, -1, U64, S64 - 1, -S64]))
ANSWER = st.one_of(st.integers(-S64 - 1, U64 + 1), st.sampled_from(["raise", "fault", "none", "nest", True]))
STEP = st.tuples(ARG, ARG, st.one_of(st.integers(-1, 1 << 32), st.sampled_from([DRV_OPEN, DRV_USER])),
                 ARG, ARG, ANSWER)


def run_steps(db, steps, *, native: bool) -> tuple[list, list]:
    """What each step returned or raised, and the rows stored, through the C log or the Python one."""
    outcomes = []
    saved = call_log.NativeLog
    call_log.NativeLog = saved if native else None
    try:
        rec = Recorder(str(db), driver="paths", batch_size=4, max_pending=16, flush_interval=0.001)
    finally:
        call_log.NativeLog = saved

    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        answer = steps_answer[0]
        if answer == "raise":
            raise KeyError("missing")
        if answer == "fault":
            raise DriverFault(0xC0000005, module="drv.dll", offset=0x10, description="boom")
        if answer == "nest":
            steps_answer[0] = 7
            return hooked(0, 1, DRV_USER, 5, 6) + 1
        return None if answer == "none" else answer

    hooked = rec.wrap(proc)
    steps_answer = [None]
    for i, (*args, answer) in enumerate(steps):
        steps_answer[0] = answer
        if i % 5 == 4:
            rec.mark(f"step {i}")
        try:
            outcomes.append(("returned", hooked(*args)))
        except Exception as exc:  # noqa: BLE001 - the outcome compared
            outcomes.append(("raised", type(exc).__name__, str(exc)))
    rec.close()
    with Store.open(str(db)) as store:
        return outcomes, stored_rows(store, store.resolve("last").pk)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, max_size=30))
def test_the_c_log_stores_and_answers_exactly_what_the_python_log_does(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("paths")
    assert run_steps(folder / "c.db", steps, native=True) == run_steps(folder / "py.db", steps, native=False)


def test_the_callers_thread_never_runs_the_storage(tmp_path, log_kind):
    writers: set[int] = set()
    with Store.open(tmp_path / "w.db", create=True) as store:
        append = store.append_rows

        def noting(*args):
            writers.add(threading.get_ident())
            append(*args)

        store.append_rows = noting
        rec = Recorder(store, driver="w", batch_size=8, max_pending=32, flush_interval=0.001)
        hooked = rec.wrap(lambda *a: a[3])
        assert [hooked(0, 1, DRV_USER, i, 0) for i in range(3000)] == list(range(3000))
        assert writers and threading.get_ident() not in writers
        rec.close()
        assert len(store.rows(store.resolve("last").pk)) == 6001


def test_a_call_after_close_runs_and_stores_nothing_and_is_counted(tmp_path, log_kind):
    db = tmp_path / "after.db"
    rec = Recorder(str(db), driver="after")
    seen = []
    hooked = rec.wrap(lambda *a: seen.append(a[2]) or 3)
    assert hooked(0, 1, DRV_USER, 0, 0) == 3
    rec.close()
    assert hooked(0, 1, DRV_USER + 1, 0, 0) == 3
    assert seen == [DRV_USER, DRV_USER + 1]
    assert rec.events_after_close == 2
    with pytest.raises(ValueError):  # still refused before the driver runs
        hooked(-1, 1, DRV_USER, 0, 0)
    with Store.open(str(db)) as store:
        rows = store.rows(store.resolve("last").pk)
    assert [r.kind for r in rows] == [Kind.CALL, Kind.RETURN, Kind.END]


def test_a_call_in_progress_at_close_keeps_its_call_and_counts_its_return(tmp_path, log_kind):
    db = tmp_path / "inside.db"
    rec = Recorder(str(db), driver="inside")

    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        rec.close()
        return 9

    assert rec.wrap(proc)(0, 1, DRV_USER, 0, 0) == 9
    assert rec.events_after_close == 1
    with Store.open(str(db)) as store:
        rows = store.rows(store.resolve("last").pk)
    assert [r.kind for r in rows] == [Kind.CALL, Kind.END]


def test_close_while_threads_call_leaves_nothing_after_the_end(tmp_path, log_kind):
    db = tmp_path / "race.db"
    rec = Recorder(str(db), driver="race", batch_size=64, flush_interval=0.001)
    hooked = rec.wrap(lambda *a: a[3])
    started, underway = threading.Barrier(5), threading.Event()
    answers: list[list] = [[] for _ in range(4)]

    def work(n):
        started.wait()
        for i in range(20_000):
            answers[n].append(hooked(0, n, DRV_USER, i, 0))
            if i == 500:
                underway.set()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for w in workers:
        w.start()
    started.wait()
    underway.wait()
    rec.close()  # in the middle of the calls (or after them, on a slow machine: the same checks hold)
    for w in workers:
        w.join()
    assert all(a == list(range(20_000)) for a in answers)  # every call ran, recorded or not
    with Store.open(str(db)) as store:
        rows = store.rows(store.resolve("last").pk)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)) and rows[-1].kind == Kind.END
    calls = {r.seq for r in rows if r.kind == Kind.CALL}
    returns = [r for r in rows if r.kind == Kind.RETURN]
    assert all(r.call_seq in calls for r in returns)
    assert rec.events_after_close == 4 * 2 * 20_000 - (len(calls) + len(returns))
