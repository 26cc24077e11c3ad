"""The hook: exact results, every event stored, faults, re-entrancy, threads, ctypes."""

import ctypes
import shutil
import subprocess
import threading

import pytest

from drvtape.recorder import Recorder, hooked
from drvtape.runtime.faults import DriverFault
from drvtape.schema.events import EndReason
from drvtape.schema.messages import DRV_CLOSE, DRV_LOAD, DRV_OPEN, DRV_USER
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store


def stored(db):
    store = Store.open(db)
    session = store.resolve("last")
    events = store.events(session.pk)
    store.close()
    return session.header, events


def test_hook_returns_exactly_what_the_driver_returned_and_stores_call_then_return(tmp_path):
    db = tmp_path / "r.db"
    answers = {DRV_LOAD: 1, DRV_USER: -1, DRV_USER + 1: (1 << 63) - 1, DRV_USER + 2: -(1 << 63)}

    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        return answers[msg]

    with hooked(proc, db, driver="exact") as h:
        got = [h(0, 0xFFFF_FFFF_FFFF_FFFF, msg, -5, 1 << 62) for msg in answers]
    assert got == list(answers.values())
    header, events = stored(db)
    assert header.driver == "exact"
    assert [e.kind for e in events] == ["call", "return"] * 4 + ["end"]
    assert [e.seq for e in events] == list(range(1, 10))
    calls, returns = events[0:8:2], events[1:8:2]
    assert [r.result for r in returns] == list(answers.values())
    assert all(c.hdrvr == 0xFFFF_FFFF_FFFF_FFFF and c.lparam1 == -5 and c.lparam2 == 1 << 62 for c in calls)
    assert [r.call_seq for r in returns] == [c.seq for c in calls]
    assert events[-1].reason is EndReason.CLOSED


def test_a_fault_is_recorded_and_reraised_and_ends_the_session_as_a_crash(tmp_path):
    db = tmp_path / "r.db"

    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        if msg == DRV_CLOSE:
            raise DriverFault(0xC0000005, module="mydrv.dll", offset=0x1234, description="boom")
        return 1

    with pytest.raises(DriverFault):
        with Recorder(db, driver="mydrv.dll") as rec:
            h = rec.wrap(proc)
            h(0, 1, DRV_LOAD, 0, 0)
            h(7, 1, DRV_CLOSE, 0, 0)
    _, events = stored(db)
    assert [e.kind for e in events] == ["call", "return", "call", "fault", "end"]
    fault, end = events[3], events[4]
    assert (fault.call_seq, fault.code, fault.module, fault.offset) == (3, 0xC0000005, "mydrv.dll", 0x1234)
    assert end.reason is EndReason.CRASH and end.call_seq == 3


def test_a_python_exception_is_a_fault_with_drvtapes_code(tmp_path):
    db = tmp_path / "r.db"

    def proc(*args):
        raise KeyError("missing")

    with Recorder(db, driver="py") as rec:
        with pytest.raises(KeyError):
            rec.wrap(proc)(0, 1, DRV_LOAD, 0, 0)
    _, events = stored(db)
    assert events[1].kind == "fault" and events[1].code == 0xE0505900
    assert "KeyError" in events[1].description


def test_reentrant_calls_are_nested_between_the_outer_call_and_its_return(tmp_path):
    db = tmp_path / "r.db"
    rec = Recorder(db, driver="reentrant")

    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        if msg == DRV_OPEN:
            return h(driver_id, hdrvr, DRV_USER, 0, 0) + 1
        return 41

    h = rec.wrap(proc)
    assert h(0, 1, DRV_OPEN, 0, 0) == 42
    rec.close()
    _, events = stored(db)
    assert [(e.kind, getattr(e, "msg", None)) for e in events[:4]] == [
        ("call", DRV_OPEN), ("call", DRV_USER), ("return", DRV_USER), ("return", DRV_OPEN)]
    assert events[0].depth == 0 and events[1].depth == 1
    assert events[3].call_seq == 1 and events[2].call_seq == 2


def test_many_threads_one_contiguous_seq_and_each_threads_order_kept(tmp_path):
    db = tmp_path / "r.db"
    driver = ReferenceDriver()
    per_thread, threads = 5_000, 8
    with Recorder(db, driver="sim:reference", batch_size=512) as rec:
        h = rec.wrap(driver)

        def work(n):
            for i in range(per_thread):
                h(0, n, DRV_USER + n, i, n)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    _, events = stored(db)
    assert len(events) == 2 * per_thread * threads + 1
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    calls, next_i = {}, [0] * threads
    for e in events:
        if e.kind == "call":
            calls[e.seq] = e
            assert e.lparam1 == next_i[e.lparam2]  # each thread's calls in the order it made them
            next_i[e.lparam2] += 1
        elif e.kind == "return":
            assert calls[e.call_seq].thread == e.thread and calls[e.call_seq].msg == e.msg


def test_string_parameters_are_recorded_as_payloads(tmp_path):
    db = tmp_path / "r.db"
    seen = []
    with hooked(lambda d, h, m, l1, l2: seen.append(l1) or 1, db, driver="s") as h:
        h(0, 1, DRV_OPEN, "Drivers32 section", 0)
    _, events = stored(db)
    assert seen == ["Drivers32 section"]
    assert events[0].payload.lparam1.text == "Drivers32 section"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a C compiler")
def test_a_ctypes_driverproc_gets_a_real_wide_string_pointer(tmp_path):
    src = tmp_path / "drv.c"
    src.write_text(
        "#include <wchar.h>\n#include <stdint.h>\n"
        "intptr_t DriverProc(uintptr_t id, uintptr_t h, unsigned msg, intptr_t l1, intptr_t l2) {\n"
        "  if (msg == 3) return l1 ? (intptr_t)wcslen((const wchar_t *)l1) + 100 : 7;\n"
        "  return -2; }\n")
    lib = tmp_path / "drv.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    proc = ctypes.CDLL(str(lib)).DriverProc
    db = tmp_path / "r.db"
    with hooked(proc, db, driver=str(lib)) as h:
        assert h(0, 1, DRV_OPEN, "section", 0) == 107
        assert h(0, 1, DRV_OPEN, 0, 0) == 7
        assert h(0xFFFF_FFFF_FFFF_FFFF, 1, DRV_USER, 0, 0) == -2
    _, events = stored(db)
    assert events[0].payload.lparam1.text == "section"
    assert [e.result for e in events if e.kind == "return"] == [107, 7, -2]


def test_bad_arguments_are_refused_before_the_driver_runs(tmp_path):
    calls = []
    with hooked(lambda *a: calls.append(a) or 0, tmp_path / "r.db", driver="x") as h:
        with pytest.raises(ValueError):
            h(-1, 0, DRV_LOAD, 0, 0)
        with pytest.raises(ValueError):
            h(0, 0, 1 << 32, 0, 0)
    assert calls == []


def test_arguments_that_are_not_integers_or_past_64_bits_are_refused_before_the_driver_runs(tmp_path):
    calls = []
    with hooked(lambda *a: calls.append(a) or 0, tmp_path / "r.db", driver="x") as h:
        for args in ((1 << 64, 0, DRV_LOAD, 0, 0), (0, 1.5, DRV_LOAD, 0, 0), (0, 0, -1, 0, 0),
                     (0, 0, DRV_LOAD, 1 << 63, 0), (0, 0, DRV_LOAD, 0, -(1 << 63) - 1)):
            with pytest.raises(ValueError, match="out of range"):
                h(*args)
        assert h(0xFFFF_FFFF_FFFF_FFFF, 0, 0xFFFF_FFFF, (1 << 63) - 1, -(1 << 63)) == 0
    assert len(calls) == 1


def test_depth_after_a_fault_and_in_another_thread_starts_again_at_zero(tmp_path):
    db = tmp_path / "r.db"

    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        if msg == DRV_OPEN:
            return h(driver_id, hdrvr, DRV_USER, 0, 0)
        if lparam1:
            raise RuntimeError("inner fault")
        return 0

    with hooked(proc, db, driver="depths") as h:
        with pytest.raises(RuntimeError):
            h(0, 1, DRV_USER, 1, 0)
        h(0, 1, DRV_OPEN, 0, 0)
        other = threading.Thread(target=lambda: h(0, 1, DRV_OPEN, 0, 0))
        other.start()
        other.join()
    _, events = stored(db)
    assert [e.depth for e in events if e.kind == "call"] == [0, 0, 1, 0, 1]


def test_a_driver_returning_none_is_a_recorded_fault(tmp_path):
    db = tmp_path / "r.db"
    with hooked(lambda *a: None, db, driver="x") as h:
        with pytest.raises(TypeError):
            h(0, 1, DRV_LOAD, 0, 0)
    _, events = stored(db)
    assert events[1].kind == "fault" and "NoneType" in events[1].description


def test_marks_are_stored_in_order(tmp_path):
    db = tmp_path / "r.db"
    with Recorder(db, driver="x") as rec:
        rec.wrap(ReferenceDriver())(0, 1, DRV_LOAD, 0, 0)
        rec.mark("user pressed logoff")
    _, events = stored(db)
    assert events[2].kind == "mark" and events[2].text == "user pressed logoff"
