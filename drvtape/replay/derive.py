"""Derived sessions: calls cut from a recording, run once more and stored as a new session.

minimize and explore store what they find this way. The new session's header names the
recording as its origin (SessionHeader.origin); it is recorded under the hook (sim:, py:) or
built from the host's results (dll:), so its returns are this run's.
"""

from __future__ import annotations

import platform
import uuid
from collections.abc import Sequence
from dataclasses import replace

from drvtape import __version__
from drvtape.dllhost import HostResult, run_dll
from drvtape.errors import DrvtapeError
from drvtape.recorder.ending import END_REASON, close_after
from drvtape.recorder.hook import Recorder
from drvtape.replay import load_recording, replay_recording
from drvtape.replay.dll import host_calls
from drvtape.replay.inprocess import drive
from drvtape.replay.memory import MemoryPlan, plan_memory, written_blocks
from drvtape.replay.memory_facts import catalog_lookup
from drvtape.replay.order import call_orders
from drvtape.runtime.schedule import Threads
from drvtape.runtime.targets import Target
from drvtape.schema import messages as m
from drvtape.schema import details
from drvtape.schema.entry_points import DEVICE_OPEN, stored_code
from drvtape.schema.events import EndReason, SessionHeader, utc_now
from drvtape.schema.outcome import OutcomeKind
from drvtape.schema.recording import RecordedCall, Recording
from drvtape.schema.rows import call_row, end_row, fault_row, return_row
from drvtape.schema.values import as_unsigned64
from drvtape.store import Store, opened
from drvtape.store.recovery import end_orphaned_sessions


def loose(recording: Recording, calls: Sequence[RecordedCall]) -> Recording:
    """The calls as a recording that only the ending is compared against. DRV_OPEN keeps its
    recorded id: later calls name the instance by it, and replay remaps it to this run's."""
    return replace(recording, calls=[c if c.msg == m.DRV_OPEN else replace(c, result=None) for c in calls])


def save_derived(recording: Recording, calls: Sequence[RecordedCall], target: Target, db: str | Store | None, *,
                 source: str, threads: Threads = Threads.FAITHFUL, timeout: float = 5.0) -> str:
    """Run the calls once more and store what the driver received as a new session whose
    header names the recording as its origin; its id."""
    candidate = loose(recording, calls)
    if target.in_process:
        return _record_in_process(candidate, target, db, source=source, threads=threads, timeout=timeout)
    return _store_host_run(candidate, target, db, source=source, threads=threads, timeout=timeout)


def _record_in_process(candidate: Recording, target: Target, db, *, source: str, threads: Threads,
                       timeout: float) -> str:
    running = target.start()
    recorder = Recorder(db, driver=candidate.header.driver, target=target.spec, source=source,
                        origin=candidate.header.id)
    _, done = drive(candidate, running, recorder.wrap(running.proc), threads=threads, timeout=timeout)
    close_after(done, recorder, hung=lambda unit: f"the call replayed from seq {unit.label} never returned")
    return str(recorder.session_id)


def _store_host_run(candidate: Recording, target: Target, db, *, source: str, threads: Threads,
                    timeout: float) -> str:
    plan = plan_memory(candidate, catalog_lookup(candidate.arch))
    if plan.unfaithful is not None:
        raise DrvtapeError(f"cannot replay faithfully: {plan.unfaithful.text}")
    results = run_dll(target.name, host_calls(candidate, threads, plan), timeout_s=timeout, stop_on_divergence=False)
    rows, blobs = _host_rows(candidate, plan, results)
    origin = candidate.header
    header = SessionHeader(id=uuid.uuid4(), driver=origin.driver, driver_hash=origin.driver_hash, target=target.spec,
                           machine=platform.node(), os=platform.platform(), process="drvhost",
                           recorder_version=__version__, started_at=utc_now(), clock="host", origin=origin.id,
                           source=source, arch=origin.arch)
    with opened(db, create=True) as store:
        end_orphaned_sessions(store)
        store.store_session(header, rows, blobs)
    return str(header.id)


def _host_rows(candidate: Recording, plan: MemoryPlan, results: Sequence[HostResult]) -> tuple[list, dict[str, bytes]]:
    """The event rows of a host run and the blobs they name: each call with the id the host
    sent it (this run's DRV_OPEN's) and the memory it was given (the recording's), each return
    with what this run's driver wrote."""
    by_seq = {c.seq: (i, c, memory) for i, (c, memory) in enumerate(zip(candidate.calls, plan.calls))}
    orders = call_orders(candidate.calls)
    produced: dict[int, int] = {}  # index of a DRV_OPEN -> the id it returned in this run
    rows: list = []
    blobs: dict[str, bytes] = {}
    ts = 0
    for r in results:
        i, c, memory = by_seq[r.seq]
        entry = stored_code(c.entry_point)
        if c.msg == m.DRV_OPEN and r.returned and r.result and c.result and entry is None:
            produced[i] = as_unsigned64(r.result)
        ident = (c.thread, c.msg, produced.get(orders[i].id_from, c.driver_id), c.hdrvr)
        call_seq = len(rows) + 1
        blobs.update((b.sha256, candidate.blob(b.sha256)) for b in c.memory_in)
        rows.append(call_row(call_seq, ts, *ident, c.lparam1, c.lparam2, 0, details.encode_call(c.payload, c.memory_in),
                             entry))
        ts += r.duration_ns or 0
        if r.returned:
            wrote = written_blocks(memory, r.memory)
            blobs.update((b.sha256, data) for b, data in wrote)
            # a device open's return names the instance stored at dwUser: the recorded one (the
            # host maps it and does not report this run's)
            returned = (*ident[:2], c.returned_id, ident[3]) if DEVICE_OPEN.get(c.entry_point) == c.msg else ident
            rows.append(return_row(len(rows) + 1, ts, *returned, r.result, call_seq, r.duration_ns or 0,
                                   details.encode_return([b for b, _ in wrote]), entry))
            continue
        if r.kind is OutcomeKind.FAULT:
            rows.append(fault_row(len(rows) + 1, ts, *ident, call_seq, r.code, r.module, r.offset, entry_point=entry))
        rows.append(end_row(len(rows) + 1, ts, c.thread, END_REASON[r.kind], call_seq))
        break
    else:
        rows.append(end_row(len(rows) + 1, ts, 0, EndReason.CLOSED))
    return rows, blobs


def replays_as_stored(db: str | Store | None, session_id: str, target: Target, *, repeat: int = 1,
                      threads: Threads = Threads.FAITHFUL, timeout: float = 5.0) -> bool:
    """`drvtape replay SESSION` would reproduce the stored session."""
    with opened(db) as store:
        stored = load_recording(store, session_id)
    return replay_recording(stored, target, threads=threads, repeat=repeat, timeout=timeout).reproduced
