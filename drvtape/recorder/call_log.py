"""The recorder's log of rows: seqs drawn, rows stamped and buffered, and the hooked DriverProc.

Two implementations with one interface:
- CallLog (drvtape/store/native/call_log.c): the batched mode's, where the C module is built.
  The GIL is its lock: a hooked call draws its seq and appends its row in one C step, and
  takes no other lock. The hooked call costs about a fifth of LockedLog's in instructions
  (bench/recorder_hook_bench.py, `hook_instructions`).
- LockedLog, here: the reference, the durable modes' (a row goes to `sink`, the store, under
  the lock) and the batched mode's where the C module is missing.

Both: `hook(proc)` is the hooked DriverProc. `stamp(row)` appends row with the next seq and
now's timestamp put in (fields 0 and 2), and returns that seq (None once closed); `end(row)`
does the same for the session's end (or None: no row) and closes the log: (seq, ts_ns).
`take()` returns the buffered rows and starts a new buffer; `give_back(rows)` puts rows back
before it; `keep_oldest(n)` drops the rows after the n oldest: (first dropped seq, how many)
or None; `pending()` is how many rows are buffered. `closed`; `unrecorded`: the events the
hook did not store because the session had ended (a call made after close(): its call and
return; a call in progress at close(): its return). The methods other than the hooked call
are called under the recorder's lock (LockedLog's lock).

A hooked call: arguments that are not both ints go to capture_call first (payloads, memory
blocks); a value out of range raises ValueError before the driver runs; after a row, a
buffer of `batch` rows calls on_batch() once until the next take, and one of max_pending
rows calls on_full() (which may wait for room) at each row.
"""

from __future__ import annotations

import functools
import itertools
import struct
import threading
from time import perf_counter_ns

from drvtape.schema.rows import CALL, RETURN
from drvtape.schema.values import INT64_MAX, INT64_MIN

try:
    from drvtape.store.sqlite_rows import CallLog as NativeLog  # the C module itself, not the package
except ImportError:  # not built (no C compiler or headers at install): LockedLog
    NativeLog = None

# dwDriverId, hdrvr, msg, lParam1, lParam2: packing them is the range check, in one C call
# (struct.error for a value out of range or not an integer); five chained comparisons cost twice as much.
ARGUMENTS = struct.Struct("<QQIqq")
ARGUMENTS_OUT_OF_RANGE = ("DriverProc arguments out of range: dwDriverId and hdrvr are unsigned 64-bit integers, "
                          "msg a UINT, lParam1/lParam2 signed 64-bit")


class LockedLog:
    def __init__(self, t0: int, batch: int, max_pending: int, *, lock: threading.Lock, on_batch, on_full,
                 capture_call, capture_return, record_fault, as_lresult, sink=None):
        self._t0, self._batch, self._max_pending, self._lock = t0, batch, max_pending, lock
        self._on_batch, self._on_full, self._capture_call = on_batch, on_full, capture_call
        self._capture_return, self._record_fault, self._as_lresult = capture_return, record_fault, as_lresult
        self._rows: list[tuple] = []
        self._sink = sink
        self._emit = sink or self._rows.append  # rebound to the new buffer at each take
        self._next_seq = itertools.count(1).__next__  # drawn under the lock: the buffer is in seq order
        self._depths: dict[int, int] = {}  # calls in progress per thread (by ident): the next call's depth
        self._kicked = False
        self.closed = False
        self.unrecorded = 0

    def hook(self, proc):
        log, t0, next_seq, get_ident, depths = self, self._t0, self._next_seq, threading.get_ident, self._depths
        # acquire/release in try/finally: `with lock` measured 220 ns a section here, these 100
        acquire, release, check_arguments = self._lock.acquire, self._lock.release, ARGUMENTS.pack
        capture_call, capture_return, record_fault = self._capture_call, self._capture_return, self._record_fault
        batch, max_pending, as_lresult = self._batch, self._max_pending, self._as_lresult

        # The call and return rows are schema.rows.call_row/return_row written out as tuple
        # literals: the builder calls measured +0.4 us per message (two rows) on a ~5 us path.
        @functools.wraps(proc)
        def hooked(driver_id, hdrvr, msg, lparam1, lparam2):
            if type(lparam1) is int and type(lparam2) is int:
                raw1, raw2, payload = lparam1, lparam2, None  # three names: no tuple built (four would)
                refs = None
            else:
                raw1, raw2, payload, refs = capture_call(msg, lparam1, lparam2)
            try:
                check_arguments(driver_id, hdrvr, msg, raw1, raw2)
            except struct.error:
                raise ValueError(ARGUMENTS_OUT_OF_RANGE) from None
            ident = get_ident()
            depth = depths.get(ident, 0)
            acquire()
            try:
                if log.closed:
                    log.unrecorded += 2
                    seq = None
                else:
                    seq = next_seq()
                    start = perf_counter_ns()
                    log._emit((seq, CALL, start - t0, ident, msg, driver_id, hdrvr, raw1, raw2,
                               None, None, depth, None, payload, None))
            finally:
                release()
            if seq is None:
                return _lresult(proc(driver_id, hdrvr, msg, lparam1, lparam2), as_lresult)
            depths[ident] = depth + 1
            try:
                result = proc(driver_id, hdrvr, msg, lparam1, lparam2)
                if type(result) is not int or not INT64_MIN <= result <= INT64_MAX:
                    result = as_lresult(result)
            except BaseException as exc:
                _leave(depths, ident, depth)
                if isinstance(exc, Exception):
                    record_fault(seq, ident, msg, driver_id, hdrvr, exc)
                raise
            end = perf_counter_ns()
            if depth:  # _leave, written out: a function call here costs a tenth of the hook
                depths[ident] = depth
            else:
                del depths[ident]
            written = None if refs is None else capture_return(refs)
            acquire()
            try:
                if log.closed:
                    log.unrecorded += 1
                    return result
                log._emit((next_seq(), RETURN, end - t0, ident, msg, driver_id, hdrvr, None, None,
                           result, seq, None, end - start, written, None))
                pending = len(log._rows)
            finally:
                release()
            if pending >= batch:
                log._after_batch(pending)
            return result

        return hooked

    def _after_batch(self, pending: int) -> None:
        if pending >= self._max_pending:
            self._on_full()
        elif not self._kicked:
            self._kicked = True
            self._on_batch()

    def stamp(self, row: tuple) -> int | None:
        if self.closed:
            self.unrecorded += 1
            return None
        seq = self._next_seq()
        self._emit((seq, row[1], perf_counter_ns() - self._t0, *row[3:]))
        return seq

    def end(self, row: tuple | None) -> tuple[int, int]:
        seq, ts_ns = self._next_seq(), perf_counter_ns() - self._t0
        self.closed = True
        if row is not None:
            self._emit((seq, row[1], ts_ns, *row[3:]))
        return seq, ts_ns

    def take(self) -> list:
        rows, self._rows = self._rows, []  # one swap: the lock is held for no copy
        self._emit = self._sink or self._rows.append
        self._kicked = False
        return rows

    def give_back(self, rows: list) -> None:
        self._rows[:0] = rows

    def keep_oldest(self, keep: int) -> tuple[int, int] | None:
        dropped = self._rows[keep:]
        if not dropped:
            return None
        del self._rows[keep:]
        return dropped[0][0], len(dropped)

    def pending(self) -> int:
        return len(self._rows)


def new_log(t0: int, batch: int, max_pending: int, *, sink=None, **callbacks):
    """A CallLog where the C module is built and rows are buffered (no sink), else a LockedLog."""
    if sink is None and NativeLog is not None:
        callbacks.pop("lock")
        return NativeLog(t0, batch, max_pending, call_kind=CALL, return_kind=RETURN,
                         out_of_range=ARGUMENTS_OUT_OF_RANGE, **callbacks)
    return LockedLog(t0, batch, max_pending, sink=sink, **callbacks)


def _lresult(result, as_lresult) -> int:
    if type(result) is not int or not INT64_MIN <= result <= INT64_MAX:
        return as_lresult(result)
    return result


def _leave(depths: dict[int, int], ident: int, depth: int) -> None:
    """A thread's call at `depth` is over; a thread with no call in progress keeps no entry
    (threads come and go)."""
    if depth:
        depths[ident] = depth
    else:
        del depths[ident]
