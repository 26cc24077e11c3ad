"""Minimize: delta debugging (ddmin) over a session's calls, keeping the session well-formed.

What may go: a message or DRV_CLOSE on its own; a DRV_OPEN together with everything later
sent to that instance (keyed by its hdrvr); an unload-and-reload in the middle (DRV_DISABLE,
DRV_FREE, DRV_LOAD, DRV_ENABLE) as one piece. What stays: the first DRV_LOAD/DRV_ENABLE, the
last DRV_DISABLE/DRV_FREE, the failing call and the DRV_OPEN of its instance. A call keeps
its recorded thread and seq, so "the same call" is the same seq in every candidate.

A candidate is accepted when every run ends with the recording's outcome kind at the same
call (for a fault, the same code and place); the returns of earlier calls are not compared,
because the point of removing calls is that the driver's answers may change. The result is
stored as a new session derived from the original (SessionHeader.origin), by re-running it
under the hook (sim:, py:) or from the host's results (dll:), so its returns are this run's.
"""

from __future__ import annotations

import platform
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from drvtape import __version__
from drvtape.errors import DrvtapeError
from drvtape.replay import replay_recording
from drvtape.schema.outcome import Outcome
from drvtape.schema.recording import RecordedCall, Recording
from drvtape.runtime.targets import Target
from drvtape.schema import messages as m
from drvtape.schema.events import (
    CallEvent, EndEvent, EndReason, FaultEvent, ReturnEvent, SessionHeader, utc_now,
)
from drvtape.store import Store

DRIVER_WIDE = (m.DRV_LOAD, m.DRV_ENABLE, m.DRV_DISABLE, m.DRV_FREE)


# ---- candidates ---------------------------------------------------------------------------

def loose(recording: Recording, calls: Sequence[RecordedCall]) -> Recording:
    """The calls as a recording that only the ending is compared against. DRV_OPEN keeps its
    recorded id: later calls name the instance by it, and replay remaps it to this run's."""
    return replace(recording, calls=[c if c.msg == m.DRV_OPEN else replace(c, result=None) for c in calls])


def ends_as(recording: Recording, calls: Sequence[RecordedCall], target: Target, *, repeat: int,
            threads: str = "faithful", timeout: float = 5.0, on_run: Callable[[Outcome], None] | None = None) -> bool:
    """Every one of `repeat` runs of the calls ends as the recording did, at the same call."""
    candidate = loose(recording, calls)
    for _ in range(repeat):
        outcome = replay_recording(candidate, target, threads=threads, timeout=timeout).runs[0]
        if on_run is not None:
            on_run(outcome)
        if not outcome.same_place(recording.outcome):
            return False
    return True


@dataclass(frozen=True)
class Structure:
    fixed: frozenset[int]  # seqs that every candidate keeps
    atoms: list[tuple[int, ...]]  # what ddmin removes: the seqs that go together
    owner: dict[int, int]  # seq -> the seq of the DRV_OPEN of the instance it was sent to

    def closure(self, atoms: Sequence[tuple[int, ...]]) -> frozenset[int]:
        """The seqs a set of kept atoms stands for: without the calls whose DRV_OPEN is gone."""
        kept = set(self.fixed).union(*atoms)
        return frozenset(s for s in kept if self.owner.get(s, s) in kept)


def structure(recording: Recording) -> Structure:
    calls = sorted(recording.calls, key=lambda c: c.seq)
    owner: dict[int, int] = {}
    open_at: dict[int, int] = {}  # hdrvr -> seq of the DRV_OPEN of the instance open on it
    for c in calls:
        if c.msg in DRIVER_WIDE:
            continue
        if c.msg == m.DRV_OPEN:
            open_at[c.hdrvr] = c.seq
            continue
        opened = open_at.get(c.hdrvr)
        if opened is not None:
            owner[c.seq] = opened
        if c.msg == m.DRV_CLOSE:
            open_at.pop(c.hdrvr, None)

    fixed: set[int] = set()
    grouped: dict[int, list[int]] = {}  # seq of a reload's first call -> the reload's seqs
    wide = [c for c in calls if c.msg in DRIVER_WIDE]
    loads = [i for i, c in enumerate(wide) if c.msg == m.DRV_LOAD]
    if loads:
        head = wide[:loads[1]] if len(loads) > 1 else wide
        fixed.update(c.seq for c in head if c.msg in (m.DRV_LOAD, m.DRV_ENABLE))
        tail = wide[loads[-1]:]
        fixed.update(c.seq for c in tail if c.msg in (m.DRV_DISABLE, m.DRV_FREE))
        for before, after in zip(loads, loads[1:]):
            # the unload that ends one bracket and the load that starts the next go together
            unload = [c.seq for c in wide[before:after] if c.msg in (m.DRV_DISABLE, m.DRV_FREE)]
            load = [c.seq for c in wide[after:] if c.msg in (m.DRV_LOAD, m.DRV_ENABLE)][:2]
            piece = unload + load
            grouped[piece[0]] = piece
    failing = recording.outcome.seq
    if failing is not None:
        fixed.add(failing)
        if failing in owner:
            fixed.add(owner[failing])
    in_groups = {s for piece in grouped.values() for s in piece}
    atoms = [tuple(grouped[c.seq]) if c.seq in grouped else (c.seq,)
             for c in calls if c.seq not in fixed and (c.seq in grouped or c.seq not in in_groups)]
    return Structure(frozenset(fixed), atoms, owner)


def ddmin(atoms: list, test: Callable[[list], bool]) -> list:
    """Zeller's ddmin: a 1-minimal sublist of atoms for which test holds (test(atoms) must)."""
    if test([]):
        return []
    n = 2
    while len(atoms) >= 2:
        size = len(atoms) / n
        chunks = [atoms[round(i * size):round((i + 1) * size)] for i in range(n)]
        for chunk in chunks:
            if test(chunk):
                atoms, n = chunk, 2
                break
        else:
            for i in range(n):
                rest = [a for j, c in enumerate(chunks) if j != i for a in c]
                if test(rest):
                    atoms, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(atoms):
                    break
                n = min(len(atoms), 2 * n)
    return atoms


# ---- minimize -----------------------------------------------------------------------------

class Budget(Exception):
    """The replay budget is spent: minimizing stops with the smallest session found so far."""


@dataclass
class MinimizeResult:
    original: Recording
    calls: list[RecordedCall]  # the minimized calls, with their original seqs
    replays: int  # driver runs used, the saving run and its check excluded
    candidates: int  # distinct candidates tried
    seconds: float
    exhausted: bool  # the budget ran out before ddmin finished
    session_id: str | None = None  # the stored minimized session
    verified: bool | None = None  # a replay of the stored session reproduced it

    def to_json(self) -> dict:
        return {
            "session": str(self.original.header.id), "minimized": self.session_id,
            "outcome": self.original.outcome.to_json(),
            "before": {"calls": len(self.original.calls), "threads": self.original.threads},
            "after": {"calls": len(self.calls), "threads": len({c.thread for c in self.calls})},
            "messages": [{"seq": c.seq, "thread": c.thread, "msg": c.msg, "msg_name": m.message_name(c.msg)}
                         for c in self.calls],
            "replays": self.replays, "candidates": self.candidates, "seconds": round(self.seconds, 3),
            "budget_exhausted": self.exhausted, "verified": self.verified,
        }


def minimize(recording: Recording, target: Target, *, repeat: int | None = None, max_replays: int = 1000,
             threads: str = "faithful", timeout: float = 5.0,
             on_replay: Callable[[int], None] | None = None) -> MinimizeResult:
    """The smallest well-formed subset of the calls that still ends as the recording did."""
    if recording.outcome.kind not in ("fault", "hang"):
        raise DrvtapeError(f"session {recording.header.id} ended {recording.outcome.kind}: "
                           "minimize needs a session that ends in a fault or a hang")
    repeat = repeat or (1 if target.kind == "sim" else 3)  # simulated drivers are deterministic
    shape = structure(recording)
    by_seq = {c.seq: c for c in recording.calls}
    started = time.monotonic()
    tried: dict[frozenset[int], bool] = {}
    replays = 0

    def counted(_outcome: Outcome) -> None:
        nonlocal replays
        replays += 1
        if on_replay is not None:
            on_replay(replays)

    def test(atoms: list) -> bool:
        seqs = shape.closure(atoms)
        if seqs not in tried:
            if replays + repeat > max_replays:
                raise Budget()
            tried[seqs] = ends_as(recording, [by_seq[s] for s in sorted(seqs)], target, repeat=repeat,
                                  threads=threads, timeout=timeout, on_run=counted)
            if tried[seqs]:
                best[:] = atoms
        return tried[seqs]

    best: list = list(shape.atoms)
    if not test(best):
        raise DrvtapeError(f"the session does not end as recorded ({recording.outcome.describe()}) when "
                           f"replayed against {target.spec}: nothing to minimize")
    exhausted = False
    try:
        ddmin(list(shape.atoms), test)
    except Budget:
        exhausted = True
    calls = [by_seq[s] for s in sorted(shape.closure(best))]
    return MinimizeResult(recording, calls, replays, len(tried), time.monotonic() - started, exhausted)


# ---- derived sessions ---------------------------------------------------------------------

def save_derived(recording: Recording, calls: Sequence[RecordedCall], target: Target, db: str | Store | None, *,
                 source: str, threads: str = "faithful", timeout: float = 5.0) -> str:
    """Run the calls once more and store what the driver received as a new session whose
    header names the recording as its origin; its id."""
    candidate = loose(recording, calls)
    if target.in_process:
        return _record_in_process(candidate, target, db, source=source, threads=threads, timeout=timeout)
    return _store_host_run(candidate, target, db, source=source, threads=threads, timeout=timeout)


def _record_in_process(candidate: Recording, target: Target, db, *, source: str, threads: str,
                       timeout: float) -> str:
    from drvtape.recorder.hook import Recorder
    from drvtape.replay.inprocess import drive

    running = target.start()
    recorder = Recorder(db, driver=candidate.header.driver, target=target.spec, source=source,
                        origin=candidate.header.id)
    outcome, done = drive(candidate, running, recorder.wrap(running.proc), threads=threads, timeout=timeout)
    if outcome.kind == "hang":
        recorder.close(EndReason.HANG, call_seq=recorder.in_flight(done.idents[done.unit.thread]),
                       detail=f"the call replayed from seq {outcome.seq} never returned")
    elif outcome.kind == "fault" and recorder.fault_call_seq is not None:
        recorder.close(EndReason.CRASH, call_seq=recorder.fault_call_seq, detail=str(done.error))
    else:
        recorder.close()
    return str(recorder.session_id)


def _store_host_run(candidate: Recording, target: Target, db, *, source: str, threads: str,
                    timeout: float) -> str:
    from drvtape.dllhost import run_dll
    from drvtape.replay.dll import host_calls

    results = run_dll(target.name, host_calls(candidate, threads), timeout_s=timeout, stop_on_divergence=False)
    by_seq = {c.seq: c for c in candidate.calls}
    events = []
    ts = 0
    for r in results:
        c = by_seq[r.seq]
        ident = dict(thread=c.thread, msg=c.msg, driver_id=c.driver_id, hdrvr=c.hdrvr)
        call = CallEvent(seq=len(events) + 1, ts_ns=ts, lparam1=c.lparam1, lparam2=c.lparam2, payload=c.payload,
                         **ident)
        events.append(call)
        ts += r.duration_ns or 0
        if r.kind == "return":
            events.append(ReturnEvent(seq=len(events) + 1, ts_ns=ts, call_seq=call.seq, result=r.result,
                                      duration_ns=r.duration_ns or 0, **ident))
            continue
        if r.kind == "fault":
            events.append(FaultEvent(seq=len(events) + 1, ts_ns=ts, call_seq=call.seq, code=r.code,
                                     module=r.module, offset=r.offset, **ident))
        reason = EndReason.CRASH if r.kind == "fault" else EndReason.HANG
        events.append(EndEvent(seq=len(events) + 1, ts_ns=ts, thread=c.thread, reason=reason, call_seq=call.seq))
        break
    else:
        events.append(EndEvent(seq=len(events) + 1, ts_ns=ts, thread=0, reason=EndReason.CLOSED))
    origin = candidate.header
    header = SessionHeader(id=uuid.uuid4(), driver=origin.driver, driver_hash=origin.driver_hash, target=target.spec,
                           machine=platform.node(), os=platform.platform(), process="drvhost",
                           recorder_version=__version__, started_at=utc_now(), clock="host", origin=origin.id,
                           source=source)
    store = Store.open(db, create=True) if not isinstance(db, Store) else db
    try:
        store.import_sessions([(header, events)])
    finally:
        if store is not db:
            store.close()
    return str(header.id)


def replays_as_stored(db: str | Store | None, session_id: str, target: Target, *, repeat: int = 1,
                      threads: str = "faithful", timeout: float = 5.0) -> bool:
    """`drvtape replay SESSION` would reproduce the stored session."""
    from drvtape.replay import load_recording

    store = Store.open(db) if not isinstance(db, Store) else db
    try:
        stored = load_recording(store, session_id)
    finally:
        if store is not db:
            store.close()
    return replay_recording(stored, target, threads=threads, repeat=repeat, timeout=timeout).reproduced
