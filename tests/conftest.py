"""Shared fixtures: real SQLite database files built through the Store API, and a CLI runner."""

import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run, so a result there is the code's, not the draw's;
# a developer's runs keep drawing new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import (
    CallEvent, EndEvent, EndReason, Event, FaultEvent, MarkEvent, ReturnEvent, SessionHeader,
)
from drvtape.schema.messages import (
    DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD, DRV_OPEN, DRV_USER,
)
from drvtape.schema.payloads import CallPayloads, IcOpen, WideString
from drvtape.schema.rows import event_to_row
from drvtape.store import Store
from cli_runner import run_cli
from postgres_server import PostgresServer, PostgresUnavailable

T0 = 0x1A2B  # the thread that loads the driver
T1 = 0xFFFF_FFFF_FFFF_FFF0  # a second thread whose id needs all 64 bits
H1 = 0xFFFF_8000_0000_1000  # an hdrvr above INT64_MAX
INSTANCE = 0x1234
ACCESS_VIOLATION = 0xC0000005
STEP_NS = 1_000_000  # the fixtures' events are 1 ms apart
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@dataclass
class Tape:
    """One session's events, written with automatic seq and ts_ns (1 ms apart)."""

    header: SessionHeader
    events: list[Event] = field(default_factory=list)

    def _next(self) -> dict:
        return {"seq": len(self.events) + 1, "ts_ns": len(self.events) * STEP_NS}

    def _add(self, ev: Event) -> int:
        self.events.append(ev)
        return ev.seq

    def call(self, msg: int, thread: int = T0, driver_id: int = 0, hdrvr: int = H1,
             lparam1: int = 0, lparam2: int = 0, payload: CallPayloads | None = None,
             entry_point: EntryPoint = EntryPoint.DRIVER_PROC) -> int:
        return self._add(CallEvent(**self._next(), thread=thread, msg=msg, driver_id=driver_id, hdrvr=hdrvr,
                                   lparam1=lparam1, lparam2=lparam2, payload=payload, entry_point=entry_point))

    def _call(self, call_seq: int) -> CallEvent:
        return self.events[call_seq - 1]

    def ret(self, call_seq: int, result: int) -> int:
        c = self._call(call_seq)
        return self._add(ReturnEvent(**self._next(), thread=c.thread, call_seq=call_seq, msg=c.msg,
                                     driver_id=c.driver_id, hdrvr=c.hdrvr, result=result, duration_ns=STEP_NS,
                                     entry_point=c.entry_point))

    def send(self, msg: int, result: int, **call) -> int:
        """A call and its return; the call's seq."""
        seq = self.call(msg, **call)
        self.ret(seq, result)
        return seq

    def fault(self, call_seq: int, code: int = ACCESS_VIOLATION) -> int:
        c = self._call(call_seq)
        return self._add(FaultEvent(**self._next(), thread=c.thread, call_seq=call_seq, msg=c.msg,
                                    driver_id=c.driver_id, hdrvr=c.hdrvr, code=code, module="sim.dll", offset=0x4F2))

    def mark(self, text: str, thread: int = T0) -> int:
        return self._add(MarkEvent(**self._next(), thread=thread, text=text))

    def end(self, reason: EndReason, call_seq: int | None = None, detail: str | None = None) -> int:
        return self._add(EndEvent(**self._next(), thread=T0, reason=reason, call_seq=call_seq, detail=detail))

    def store_in(self, store: Store) -> None:
        pk = store.begin_session(self.header)
        store.append_rows(pk, [event_to_row(ev) for ev in self.events])


def header(session_id: str, minutes: int = 0, **fields) -> SessionHeader:
    values = {"driver": "sim:reference", "target": "sim:reference", "machine": "box-a", "os": "Linux",
              "process": "pytest", "pid": 42, "recorder_version": "0.1.0"}
    values.update(fields)
    return SessionHeader(id=uuid.UUID(session_id), started_at=START + timedelta(minutes=minutes), **values)


SHUTDOWN_ID = "aaaa0001-0000-4000-8000-000000000001"
HANG_ID = "aaaa0002-0000-4000-8000-000000000002"
CLEAN_ID = "bbbb0003-0000-4000-8000-000000000003"
OPEN_ID = "cccc0004-0000-4000-8000-000000000004"


def shutdown_tape() -> Tape:
    """Two threads, DRV_LOAD..DRV_FREE, a DRV_EXITSESSION, and a fault in DRV_FREE that ends it."""
    tape = Tape(header(SHUTDOWN_ID, driver="sim:disable-with-open",
                       target="sim:disable-with-open", driver_hash="sha256:00ff"))
    tape.send(DRV_LOAD, 1)  # seq 1
    tape.send(DRV_ENABLE, 1)  # 3
    opened = CallPayloads(lparam1=WideString(text="section"),
                          lparam2=IcOpen(dwSize=48, fccType=int.from_bytes(b"vidc", "little"),
                                         fccHandler=int.from_bytes(b"mrle", "little")))
    tape.send(DRV_OPEN, INSTANCE, thread=T1, lparam1=0x7FF6_0000_1000, lparam2=0x7FF6_0000_2000,
              payload=opened)  # 5
    tape.send(DRV_USER + 1, -1, thread=T1, driver_id=INSTANCE, lparam1=-(1 << 63), lparam2=(1 << 63) - 1)  # 7
    tape.mark("logoff starts")  # 9
    tape.send(DRV_EXITSESSION, 0, driver_id=INSTANCE)  # 10
    tape.send(DRV_DISABLE, 1, driver_id=INSTANCE)  # 12
    free = tape.call(DRV_FREE, driver_id=INSTANCE)  # 14
    tape.fault(free)  # 15
    tape.end(EndReason.CRASH, call_seq=free, detail="access violation in DRV_FREE")  # 16
    return tape


def hang_tape() -> Tape:
    """Thread T1 is inside DRV_OPEN when T0's DRV_EXITSESSION spins forever."""
    tape = Tape(header(HANG_ID, minutes=1, driver="sim:exit-spin", target="sim:exit-spin", machine="box-b"))
    tape.send(DRV_LOAD, 1)
    tape.send(DRV_ENABLE, 1)
    tape.call(DRV_OPEN, thread=T1)
    exiting = tape.call(DRV_EXITSESSION)
    tape.end(EndReason.HANG, call_seq=exiting)
    return tape


def clean_tape() -> Tape:
    tape = Tape(header(CLEAN_ID, minutes=2, machine="box-b"))
    for msg, result in ((DRV_LOAD, 1), (DRV_ENABLE, 1), (DRV_OPEN, INSTANCE)):
        tape.send(msg, result)
    for msg in (DRV_CLOSE, DRV_DISABLE, DRV_FREE):
        tape.send(msg, 1, driver_id=INSTANCE)
    tape.end(EndReason.CLOSED)
    return tape


def open_tape() -> Tape:
    """Still being recorded: no end event."""
    tape = Tape(header(OPEN_ID, minutes=3, driver="C:\\Windows\\System32\\msrle32.dll", target=None))
    tape.send(DRV_LOAD, 1)
    return tape


class Tapes:
    """What tests build sessions from, as the `tapes` fixture: a test module cannot
    `import conftest` reliably once a subfolder has its own conftest.py."""

    T0, T1, H1, INSTANCE, ACCESS_VIOLATION, START, STEP_NS = T0, T1, H1, INSTANCE, ACCESS_VIOLATION, START, STEP_NS
    IDS = {"shutdown": SHUTDOWN_ID, "hang": HANG_ID, "clean": CLEAN_ID, "open": OPEN_ID}
    Tape = Tape
    header = staticmethod(header)
    shutdown = staticmethod(shutdown_tape)
    hang = staticmethod(hang_tape)
    clean = staticmethod(clean_tape)
    open = staticmethod(open_tape)


@pytest.fixture
def tapes() -> type[Tapes]:
    return Tapes


@pytest.fixture
def tape_db(tmp_path) -> Path:
    """A SQLite file with four sessions: shutdown (fault), hang, clean and open, oldest first."""
    path = tmp_path / "tapes.db"
    with Store.open(str(path), create=True) as store:
        for make in (shutdown_tape, hang_tape, clean_tape, open_tape):
            make().store_in(store)
    return path


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def drvtape():
    """Run the drvtape command line in-process (drvtape.cli.main, as the console script does)."""
    def run(*args, input: str | bytes | None = None) -> Run:
        return Run(*run_cli(*args, input=input))
    return run


# ---- both engines -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres():
    try:
        import psycopg  # noqa: F401
        server = PostgresServer()
    except (ImportError, PostgresUnavailable) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"required in CI: {exc}", pytrace=False)
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A --db value for a new, empty database on each engine."""
    if request.param == "sqlite":
        return str(tmp_path / "engine.db")
    return request.getfixturevalue("postgres").new_database()


# ---- /tmp ---------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def temporary_files_in_tmp_path(tmp_path, monkeypatch):
    """What a test makes through tempfile in this process (hook_run's and tap_run's folders,
    left for their caller to remove) goes to its tmp_path instead of /tmp. (Wine processes get
    one TMPDIR whatever this is: drvtape.dllhost.wine.SERVER_TMPDIR.)"""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
