"""The hook: wraps a DriverProc so that every message it receives is recorded.

The caller's thread only appends a row per event to the session's log (drvtape.recorder.call_log:
one global seq, each thread's own order kept); a writer thread stores batches. The hook
returns exactly what the driver returned and re-raises what it raised.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from time import perf_counter_ns

from drvtape import __version__
from drvtape.errors import DrvtapeError
from drvtape.recorder.call_log import new_log
from drvtape.recorder.losses import Losses
from drvtape.recorder.writer import BatchWriter
from drvtape.runtime.faults import fault_of
from drvtape.runtime.memory import DEFAULT_CAP, MemoryRef, capture_blocks
from drvtape.runtime.pointers import capture_call, ctypes_arg
from drvtape.schema.events import EndReason, SessionHeader, utc_now
from drvtape.schema import details
from drvtape.schema.memory.captured import Phase
from drvtape.schema.rows import CALL, FAULT, RETURN, end_row, fault_row, mark_row
from drvtape.schema.values import as_signed64, fits_64_bits
from drvtape.store import EventFilter, Store, opened
from drvtape.store.recovery import end_orphaned_sessions
DRIVER_PROC_TYPE = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint,
                                    ctypes.c_ssize_t, ctypes.c_ssize_t)


class Durability(str, Enum):
    """When an event is safe (docs/reliability.md says which test shows each)."""

    MACHINE = "machine"  # committed and fsync'ed before the driver sees the message
    PROCESS = "process"  # committed (written to the OS) before the driver sees the message
    BATCHED = "batched"  # buffered; written in batches off the caller's thread


class Recorder:
    """One recording session. Use as a context manager, or call close().

    switch_interval (seconds, opt-in): the interpreter's switch interval while recording
    (sys.setswitchinterval: process-wide; the previous one is restored at close). While the
    caller runs Python, the writer thread waits up to this long for the GIL at each hand-off,
    and a call waits while the writer holds it: 0.0005 cut a sustained stream's worst call
    from 461 ms to 63 ms where the default is 0.005 (issue 16; docs/reliability.md).
    In batched mode at most 2 * max_pending events are not yet stored at any moment: a
    caller that finds max_pending buffered and, with what the writer has taken and not stored
    yet, 2 * max_pending, waits until the writer has stored a batch (it never writes them
    itself); normally nothing is older than flush_interval.
    A MemoryRef argument (drvtape.runtime.memory) is recorded as its blocks: what the driver
    reads before the call, what it wrote after it returned, at most memory_cap bytes of each
    (a longer block is marked truncated). Their bytes are stored once per session and content,
    in the same transaction as the first event naming them, or before it.
    """

    def __init__(self, db: str | Store | None = None, *, driver: str, target: str | None = None,
                 source: str = "hook", session_id: uuid.UUID | None = None, origin: uuid.UUID | None = None,
                 durability: Durability | str = Durability.BATCHED, batch_size: int = 8192,
                 max_pending: int | None = None, flush_interval: float = 0.05, memory_cap: int = DEFAULT_CAP,
                 switch_interval: float | None = None):
        try:
            self.durability = Durability(durability)
        except ValueError:
            raise DrvtapeError(f"unknown durability {durability!r}: use machine, process or batched") from None
        if switch_interval is not None and not 0 < switch_interval <= 1:
            raise DrvtapeError(f"switch_interval {switch_interval!r}: give seconds above 0, at most 1 (e.g. 0.0005)")
        self.header = SessionHeader(
            id=session_id or uuid.uuid4(), driver=driver, target=target, machine=platform.node(),
            os=platform.platform(), process=Path(sys.argv[0]).name or sys.executable, pid=os.getpid(),
            recorder_version=__version__, started_at=utc_now(), clock="perf_counter_ns", source=source,
            origin=origin,
        )
        with ExitStack() as opening:  # a store opened here is closed again if the session cannot begin
            self.store = opening.enter_context(opened(db, create=True))
            end_orphaned_sessions(self.store)
            self._pk = self.store.begin_session(self.header)
            self._resources = opening.pop_all()
        self._lock = threading.Lock()
        self._t0 = perf_counter_ns()
        self._max_pending = max_pending or 16 * batch_size
        self.fault_call_seq: int | None = None
        self._losses = Losses()
        self.memory_cap = memory_cap
        self._blobs: dict[str, bytes] = {}  # captured bytes not stored yet, by sha256
        self._blob_keys: set[str] = set()  # every sha256 this session queued: stored once
        self._writer = self._appender = None
        if self.durability is not Durability.BATCHED:
            # Written under the recorder's lock, so what survives a crash is a contiguous prefix.
            self._appender = self.store.appender(self._pk, fsync=self.durability is Durability.MACHINE)
        self._log = new_log(self._t0, batch_size, self._max_pending, lock=self._lock, on_batch=self._kick,
                            on_full=self._make_room, capture_call=self._capture_call,
                            capture_return=self._capture_return, record_fault=self._record_fault,
                            as_lresult=_as_lresult, sink=None if self._appender is None else self._append_durably)
        if self.durability is Durability.BATCHED:
            self._writer = BatchWriter(self.store, self._pk, self._take, self._give_back, self._shed,
                                       flush_interval, batch_size)
        self._switch_interval_before = _set_switch_interval(switch_interval)

    @property
    def session_id(self) -> uuid.UUID:
        return self.header.id

    @property
    def room_waits(self) -> int:
        """How many times a hooked call found 2 * max_pending events unstored and waited for the writer."""
        return 0 if self._writer is None else self._writer.room_waits

    @property
    def longest_room_wait_s(self) -> float:
        """The longest of those waits (wall time): at most about one batch's storing (a
        waiting caller goes on as soon as the writer has stored one)."""
        return 0.0 if self._writer is None else self._writer.longest_room_wait_ns / 1e9

    @property
    def events_after_close(self) -> int:
        """Events hooked calls made after close() that were not stored (the session had ended):
        a call made after it, its call and return; a call in progress at it, its return."""
        return self._log.unrecorded

    # ---- the hot path --------------------------------------------------------------------

    def wrap(self, proc: Callable) -> Callable:
        """A DriverProc that records every call, then calls proc. Also usable as a decorator."""
        if isinstance(proc, ctypes._CFuncPtr):
            return self._wrap_ctypes(proc)
        return self._log.hook(proc)

    hook = wrap

    def _wrap_ctypes(self, func) -> Callable:
        # The C function behind a ctypes pointer, typed as a DriverProc whatever argtypes it had.
        typed = DRIVER_PROC_TYPE(ctypes.cast(func, ctypes.c_void_p).value)

        def call_c(driver_id, hdrvr, msg, lparam1, lparam2):
            keep: list = []
            return typed(driver_id, hdrvr, msg, ctypes_arg(lparam1, keep), ctypes_arg(lparam2, keep))

        return self.wrap(call_c)

    def _capture_call(self, msg, lparam1, lparam2) -> tuple[int, int, str | None, tuple | None]:
        """(lParam1, lParam2, the call's payload text, its MemoryRefs to read after the return
        or None) for arguments that are not both plain ints."""
        if not (isinstance(lparam1, MemoryRef) or isinstance(lparam2, MemoryRef)):
            raw1, raw2, payloads = capture_call(msg, lparam1, lparam2)
            return raw1, raw2, details.encode_call(payloads), None
        refs = (lparam1, lparam2)
        values = [ref.address if isinstance(ref, MemoryRef) else ref for ref in refs]
        raw1, raw2, payloads = capture_call(msg, *values)
        blocks, blobs = capture_blocks(refs, Phase.CALL, self.memory_cap)
        self._queue_blobs(blobs)
        return raw1, raw2, details.encode_call(payloads, blocks), refs

    def _capture_return(self, refs: tuple) -> str | None:
        blocks, blobs = capture_blocks(refs, Phase.RETURN, self.memory_cap)
        self._queue_blobs(blobs)
        return details.encode_return(blocks)

    def _queue_blobs(self, blobs: dict[str, bytes]) -> None:
        """Queue the bytes this session has not stored yet (before the row naming them is emitted)."""
        with self._lock:
            for key, data in blobs.items():
                if key not in self._blob_keys:
                    self._blob_keys.add(key)
                    self._blobs[key] = data

    def _record_fault(self, call_seq, ident, msg, driver_id, hdrvr, exc) -> None:
        fault = fault_of(exc)
        with self._lock:  # the row's seq and ts (0 here) are the log's
            seq = self._log.stamp(fault_row(0, 0, ident, msg, driver_id, hdrvr, call_seq, fault.code, fault.module,
                                            fault.offset, fault.description))
            if seq is not None and self.fault_call_seq is None:
                self.fault_call_seq = call_seq

    # ---- the rest ------------------------------------------------------------------------

    def mark(self, text: str) -> int:
        """Add a user's annotation to the session; returns its seq."""
        with self._lock:
            self._check_open()
            return self._log.stamp(mark_row(0, 0, threading.get_ident(), text))

    def close(self, reason: EndReason = EndReason.CLOSED, *, call_seq: int | None = None,
              detail: str | None = None) -> None:
        """End the session: every event, then the `end` event, is in the database on return
        (after a storage failure: the events stored before it, a mark of the loss, the end)."""
        with self._lock:
            if self._log.closed:
                return
            ending = end_row(0, 0, threading.get_ident(), reason, call_seq, detail)
            _, ts_ns = self._log.end(ending if self._losses.from_seq is None else None)
        try:
            self._finish(ts_ns, reason, call_seq, detail)
        finally:
            self._resources.close()
            if self._switch_interval_before is not None:
                sys.setswitchinterval(self._switch_interval_before)

    def _finish(self, ts_ns: int, reason: EndReason, call_seq: int | None, detail: str | None) -> None:
        if self._writer is not None:
            self._writer.stop()
            if self._writer.error is not None:
                raise DrvtapeError(f"could not store the session's last events: {self._writer.error}")
        else:
            self._appender.close()
        if self._losses.from_seq is not None:
            try:
                self.store.append_rows(self._pk, self._losses.report(ts_ns, reason, call_seq, detail))
            except Exception as exc:
                raise DrvtapeError(f"could not store the session's end after {self._losses.count} events were "
                                   f"lost: {str(exc).splitlines()[0]}") from None

    def _append_durably(self, row: tuple) -> None:
        """The durable modes' emit (under the lock): a storage failure loses this event and the rest."""
        if self._losses.from_seq is not None:
            self._losses.lose(row[0], 1, None)
            return
        blobs, self._blobs = self._blobs, {}
        try:
            self._appender.append(row, blobs)
        except self._appender.storage_errors as exc:
            self._blobs.update(blobs)  # the next row that names them stores them
            self._losses.lose(row[0], 1, exc)

    def _shed(self, error: BaseException) -> None:
        """While the storage fails, keep at most max_pending buffered events (the oldest)."""
        with self._lock:
            dropped = self._log.keep_oldest(self._max_pending)
            if dropped is not None:
                self._losses.lose(*dropped, error)

    def in_flight(self, ident: int) -> int | None:
        """The innermost call of an OS thread that has no return yet."""
        if self._writer is not None:
            self._writer.flush()
        rows = self.store.rows(self._pk, EventFilter(threads=(ident,)))
        answered = {r.call_seq for r in rows if r.kind in (RETURN, FAULT)}
        pending = [r.seq for r in rows if r.kind == CALL and r.seq not in answered]
        return max(pending, default=None)

    def _check_open(self) -> None:
        if self._log.closed:
            raise DrvtapeError("the recording is closed")

    def _kick(self) -> None:
        self._writer.kick()

    def _make_room(self) -> None:
        """The buffer holds max_pending events: the writer may be behind; bound what a crash can lose."""
        self._writer.make_room(self._log.pending, 2 * self._max_pending)

    def _take(self) -> tuple[list, dict[str, bytes]]:
        """The whole buffer (in seq order) and the blobs its rows name; a new buffer in its place."""
        with self._lock:
            rows = self._log.take()
            blobs = {}
            if rows and self._blobs:  # queued before the rows naming them: taken with rows only
                blobs, self._blobs = self._blobs, {}
            lost_from = self._losses.from_seq
            if lost_from is not None and rows and rows[-1][0] >= lost_from:
                kept = [r for r in rows if r[0] < lost_from]
                self._losses.lose(lost_from, len(rows) - len(kept), None)
                rows = kept
        return rows, blobs

    def _give_back(self, rows: list, blobs: dict[str, bytes]) -> None:
        with self._lock:
            self._log.give_back(rows)
            self._blobs.update(blobs)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
        elif self.fault_call_seq is not None:
            self.close(EndReason.CRASH, call_seq=self.fault_call_seq, detail=str(exc))
        else:
            self.close(EndReason.CLOSED, detail=f"closed by {type(exc).__name__}: {exc}")


def _set_switch_interval(seconds: float | None) -> float | None:
    """Set the interpreter's switch interval (None: leave it); the one it replaced."""
    if seconds is None:
        return None
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    return before


def _as_lresult(result) -> int:
    if isinstance(result, bool):
        return int(result)
    if type(result) is int:
        if fits_64_bits(result):  # e.g. a pointer-sized id written unsigned: the same 64 bits
            return as_signed64(result)
        raise OverflowError(f"DriverProc returned {result}, which does not fit a 64-bit LRESULT")
    raise TypeError(f"DriverProc returned {type(result).__name__}, not an int LRESULT")
