"""One tape session's records -> event rows, renumbered 1, 2, ... in file order, handed on
as each becomes final (drvtape.recorder.ingest's docstring has the rules).

Rows are built with the row builders, not an event model per record: a tape's fixed
fields always fit the models' ranges (the struct formats bound them), and the two values
computed here that may not (a time, a duration) are checked, the models judging those.
What is kept between records is what is still open: the calls that have not returned, the
memory blocks waiting for their event, and a CALL event until its thread's next record
(its call-phase MEMORY records follow it: the tap writes them before forwarding the call).

Most of a tape is a CALL with no payloads and at once its RETURN on the same thread: run
reads such pairs straight from the tape's bytes in C (frames, CRCs and fields) into rows
packed for the insert, no Python object per row, where nothing is open or held; every other
record comes one at a time through add, the reference. tests/test_tape_fast_path.py checks
both give the same rows.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from drvtape.formats.tape import (
    CALL_RETURN_FRAMES, REC_CALL, REC_DETACH, REC_FAULT, REC_RETURN, EndRecord,
    MemoryRecord, Record, TapeHeader, TapeProblem, call_payloads, fault_module,
)
from drvtape.formats.tape_memory import PHASE_CALL
from drvtape.recorder.tape_ending import Left, OpenCall
from drvtape.schema import details
from drvtape.schema.entry_points import ENTRY_POINTS, entry_point_of, stored_code
from drvtape.schema.events import FaultEvent, ReturnEvent
from drvtape.schema.memory.captured import MemoryBlock, Phase, block
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.payloads import CallPayloads
from drvtape.schema.rows import CALL as CALL_KIND, RETURN as RETURN_KIND, EventRow, event_to_row
from drvtape.schema.values import INT64_MAX
from drvtape.store.packed_rows import PackedRows, sqlite_rows

HOLD_LIMIT = 4_096  # events held behind a CALL event waiting for its memory, at most
FAST_PAIRS = 2_048  # CALL and RETURN pairs the fast path hands on at once, at most
_new_tuple = tuple.__new__


@dataclass
class FaultFacts:
    """What deciding a FAULT record needs from later in its session (a first pass finds it)."""

    last_fault: dict[int, int] = field(default_factory=dict)  # tape call seq -> offset of its last FAULT
    returned: set[int] = field(default_factory=set)  # tape call seqs with a RETURN after a FAULT


class _Answered:
    """The tape seqs of the calls that returned or faulted: a set, and the fast path's runs as
    ranges, not an int per call (a run is CALL, RETURN, CALL, ...: its calls are every second seq)."""

    __slots__ = ("_seqs", "_firsts", "_lasts")

    def __init__(self):
        self._seqs: set[int] = set()
        self._firsts: list[int] = []  # the runs' first and last call seqs, in increasing order
        self._lasts: list[int] = []

    def add(self, seq: int) -> None:
        self._seqs.add(seq)

    def add_run(self, first: int, last: int) -> None:
        if self._lasts and first <= self._lasts[-1]:  # seqs going back (damage): kept one by one
            self._seqs.update(range(first, last + 1, 2))
        else:
            self._firsts.append(first)
            self._lasts.append(last)

    def __contains__(self, seq: int) -> bool:
        if seq in self._seqs:
            return True
        run = bisect_right(self._firsts, seq) - 1
        return run >= 0 and seq <= self._lasts[run] and (seq - self._firsts[run]) % 2 == 0


class _HeldCall:
    """A CALL event waiting for its call-phase memory."""

    __slots__ = ("fields", "payloads", "blocks", "tape_seq")  # fields: the row's but its payload

    def __init__(self, fields: tuple, payloads: CallPayloads | None, tape_seq: int):
        self.fields, self.payloads, self.tape_seq = fields, payloads, tape_seq
        self.blocks: dict[str, MemoryBlock] = {}

    def row(self) -> EventRow:
        seq, ts, thread, msg, driver_id, hdrvr, l1, l2, depth, entry_code = self.fields
        payload = details.encode_call(self.payloads, tuple(self.blocks.values())) if self.payloads or self.blocks \
            else None
        return _new_tuple(EventRow, (seq, CALL_KIND, ts, thread, msg, driver_id, hdrvr, l1, l2, None, None, depth, None,
                                     payload, entry_code))


class SessionEvents:
    """Records of one session in, rows out through emit (and captured bytes through blob)."""

    def __init__(self, tape: TapeHeader, problems: list[TapeProblem], faults: Callable[[], FaultFacts]):
        self._tape, self._problems, self._faults = tape, problems, faults
        self._emit: Callable[[EventRow], None] | None = None  # send_to sets them before the first record
        self._emit_rows: Callable[[PackedRows], None] | None = None
        self._blob: Callable[[str, bytes], None] | None = None
        self._by_type = {REC_CALL: self._call, REC_RETURN: self._return, REC_FAULT: self._fault,
                         REC_DETACH: self._detach}
        self._open: dict[int, OpenCall] = {}  # tape seq -> the call, until it returns or faults
        self._answered = _Answered()
        self._queue: deque = deque()  # rows and held calls not emitted yet, in seq order
        self._held: dict[int, _HeldCall] = {}  # thread -> its CALL event waiting for memory
        self._held_by_seq: dict[int, _HeldCall] = {}  # tape seq -> the same
        self._memory_out: dict[int, dict[str, MemoryBlock]] = {}  # event seq -> its return-phase blocks
        self._last_seq = 0
        self.events = 0
        self.calls = 0
        self.handled = 0  # exceptions the driver handled (its call returned), or a later one ended the call
        self.faulted: tuple[OpenCall, FaultEvent] | None = None
        self.after_detach: int | None = None
        self._last_ts = self._last_thread = 0
        self._facts = (tape.pid, tape.qpc_start, tape.freq, tape.pointer_size == 4, len(ENTRY_POINTS))  # read_pairs'

    def ts(self, qpc: int) -> int:
        ns = max(0, (qpc - self._tape.qpc_start) * 1_000_000_000 // self._tape.freq)
        if ns > INT64_MAX:
            raise ValueError(f"a time {ns} ns after the start, past what a 64-bit clock can hold")
        return ns

    def add(self, record: Record | MemoryRecord) -> None:
        if record.__class__ is MemoryRecord:
            self._add_memory(record)
            return
        fields, offset = record.fields, record.offset
        if fields.seq != self._last_seq + 1:
            self._problems.append(TapeProblem(offset, "seq-gap", (
                f"tape seq {fields.seq} after {self._last_seq} at offset {offset}: "
                f"{'records are missing' if fields.seq > self._last_seq else 'out of order'}")))
        self._last_seq = fields.seq
        held = self._held.pop(fields.thread, None)
        if held is not None:  # its thread moved on: its memory is all there
            del self._held_by_seq[held.tape_seq]
            self._release()
        try:
            self._by_type[fields.type](record)
        except ValidationError as exc:
            self._problems.append(TapeProblem(offset, "bad-record",
                                              f"record at offset {offset} skipped: {exc.errors()[0]['msg']}"))
        except ValueError as exc:
            self._problems.append(TapeProblem(offset, "bad-record", f"record at offset {offset} skipped: {exc}"))

    def send_to(self, emit: Callable[[EventRow], None], emit_rows: Callable[[PackedRows], None],
                blob: Callable[[str, bytes], None]) -> None:
        """Where rows (one, or the fast path's PackedRows) and captured bytes go (the session's
        output, once its header is known)."""
        self._emit, self._emit_rows, self._blob = emit, emit_rows, blob

    def run(self, data, pos: int, stop: int) -> int:
        """The fast path, for the records of most tapes: from pos, while the frames below stop
        are a CALL with no payloads and at once its RETURN (intact, of this session, on the
        same thread, the next seqs, a known entry point, times in range) and no event waits,
        their rows are built in C (sqlite_rows.read_pairs) as add would build them, packed for
        the insert, and handed on as PackedRows of at most FAST_PAIRS pairs; the offset of the
        first record left for add (pos when none was taken, or the C module is not built). A
        pair with no record between them has no memory block and no held event to release."""
        if self._queue or self._emit_rows is None or sqlite_rows is None:
            return pos
        while True:
            start = pos
            pos, packed, last_ts, last_thread = sqlite_rows.read_pairs(data, pos, stop, self._last_seq, self.events,
                                                                       self._facts, FAST_PAIRS)
            if packed is None:
                return pos
            pairs = (pos - start) // CALL_RETURN_FRAMES.size
            self._emit_rows(PackedRows(packed, 2 * pairs))
            self._answered.add_run(self._last_seq + 1, self._last_seq + 2 * pairs - 1)
            self.calls += pairs
            if self.after_detach is not None:
                self.after_detach += pairs
            self.events += 2 * pairs
            self._last_seq += 2 * pairs
            self._last_ts, self._last_thread = last_ts, last_thread
            if pairs < FAST_PAIRS:
                return pos

    def finish(self, end: EndRecord | None) -> Left:
        """Every event out; what the end event needs."""
        self._held.clear()
        self._held_by_seq.clear()
        self._release()
        end_ts = None
        if end is not None:
            try:
                end_ts = self.ts(end.qpc)
            except ValueError:
                pass  # a damaged clock in the end record: the last good time stands
        return Left(list(self._open.values()), self.faulted, self.after_detach, self._last_ts, self._last_thread,
                    end_ts)

    def emit_last(self, row: EventRow) -> None:
        self._emit(row)

    # ---- the records ---------------------------------------------------------------------

    def _next(self, ts: int, thread: int) -> int:
        self.events += 1
        self._last_ts, self._last_thread = ts, thread
        return self.events

    # _call and _return run once per record: fields unpacked into locals (not read by name),
    # a time in range computed inline (ts only clamps or refuses) and the event counted inline

    def _call(self, record: Record) -> None:
        _, _, thread, depth, tape_seq, qpc, msg, n_payloads, code, driver_id, hdrvr, l1, l2 = record.fields
        tape = self._tape
        ts = (qpc - tape.qpc_start) * 1_000_000_000 // tape.freq
        if not 0 <= ts <= INT64_MAX:
            ts = self.ts(qpc)
        payloads = call_payloads(record, self._problems, self._tape.pointer_size) if n_payloads else None
        entry_point = entry_point_of(code)  # ValueError: a code drvtape never writes
        self.events = seq = self.events + 1
        self._last_ts, self._last_thread = ts, thread
        held = _HeldCall((seq, ts, thread, msg, driver_id, hdrvr, l1, l2, depth, code or None), payloads, tape_seq)
        self._queue.append(held)
        self._held[thread] = self._held_by_seq[tape_seq] = held
        self._open[tape_seq] = _new_tuple(OpenCall, (seq, thread, msg, driver_id, hdrvr, depth, qpc, entry_point))
        self.calls += 1
        if self.after_detach is not None:
            self.after_detach += 1
        if len(self._queue) > HOLD_LIMIT:
            self._release(force=True)

    def _return(self, record: Record) -> None:
        _, _, thread, _, _, qpc, call_seq, msg, code, driver_id, hdrvr, result = record.fields
        call = self._open.pop(call_seq, None)
        if call is None:
            why = "already answered" if call_seq in self._answered else "its call record is missing"
            self._problems.append(TapeProblem(record.offset, "orphan", (
                f"the return for tape seq {call_seq} at offset {record.offset}: {why}; skipped")))
            return
        self._answered.add(call_seq)
        tape = self._tape
        ts = (qpc - tape.qpc_start) * 1_000_000_000 // tape.freq
        if not 0 <= ts <= INT64_MAX:
            ts = self.ts(qpc)
        duration = (qpc - call.qpc) * 1_000_000_000 // tape.freq
        if duration < 0:
            duration = 0
        memory = self._memory_out.pop(call.seq, None)
        if msg == DRV_OPEN and code == 0:
            result = self._open_result(result)
        if duration > INT64_MAX:  # the model names the problem
            ReturnEvent(seq=1, ts_ns=ts, thread=thread, call_seq=call.seq, msg=msg, driver_id=driver_id,
                        hdrvr=hdrvr, result=result, duration_ns=duration)
        self.events = seq = self.events + 1
        self._last_ts, self._last_thread = ts, thread
        self._out(_new_tuple(EventRow, (
            seq, RETURN_KIND, ts, thread, msg, driver_id, hdrvr, None, None, result, call.seq, None,
            duration, details.encode_return(tuple(memory.values())) if memory else None,
            stored_code(call.entry_point))))

    def _fault(self, record: Record) -> None:
        f, offset = record.fields, record.offset
        call = self._open.get(f.call_seq)
        if call is None:
            self._problems.append(TapeProblem(offset, "orphan", (
                f"the fault record for tape seq {f.call_seq} at offset {offset}: "
                f"{'its call already ended' if f.call_seq in self._answered else 'its call record is missing'};"
                " skipped")))
            return
        facts = self._faults()
        if f.call_seq in facts.returned or facts.last_fault[f.call_seq] != offset:
            self.handled += 1
            return
        ts = self.ts(f.qpc)
        ev = FaultEvent(seq=self.events + 1, ts_ns=ts, thread=f.thread, call_seq=call.seq, msg=call.msg,
                        driver_id=call.driver_id, hdrvr=call.hdrvr, code=f.code, module=fault_module(record),
                        offset=f.offset, entry_point=call.entry_point)
        self._next(ts, f.thread)
        del self._open[f.call_seq]
        self._answered.add(f.call_seq)
        self.faulted = (call, ev)
        self._out(event_to_row(ev))

    def _detach(self, record: Record) -> None:
        self.after_detach = 0

    def _add_memory(self, record: MemoryRecord) -> None:
        """Keep a MEMORY record's block for its call's CALL or RETURN event."""
        offset = record.offset
        phase = Phase.CALL if record.phase == PHASE_CALL else Phase.RETURN
        call = self._open.get(record.call_seq)
        held = self._held_by_seq.get(record.call_seq)
        known = call is not None or record.call_seq in self._answered
        if phase is Phase.CALL:
            why = None if held is not None else "after its call's thread moved on" if known else \
                "its call record is missing"
        else:
            why = None if call is not None else "after its call's return" if known else "its call record is missing"
        if why is not None and not (known and phase is Phase.CALL):
            self._orphan_memory(record, why)
            return
        blocks = {} if why is not None else held.blocks if phase is Phase.CALL else \
            self._memory_out.setdefault(call.seq, {})
        if record.path in blocks:
            self._problems.append(TapeProblem(offset, "bad-record", (
                f"record at offset {offset} skipped: a second {phase.value} block at {record.path}")))
            return
        try:
            found = block(record.path, phase, record.address, record.size, record.data,
                          truncated=record.truncated, unreadable=record.unreadable)
        except ValidationError as exc:
            self._problems.append(TapeProblem(offset, "bad-record",
                                              f"record at offset {offset} skipped: {exc.errors()[0]['msg']}"))
            return
        if why is not None:  # a good block, too late: its CALL event is stored
            self._orphan_memory(record, why)
            return
        blocks[record.path] = found
        self._blob(found.sha256, record.data)

    def _orphan_memory(self, record: MemoryRecord, why: str) -> None:
        self._problems.append(TapeProblem(record.offset, "orphan", (
            f"the memory record for tape seq {record.call_seq} at offset {record.offset}: {why}; skipped")))

    def _out(self, row: EventRow) -> None:
        """A final row: out now, unless events wait ahead of it."""
        if self._queue:
            self._queue.append(row)
            self._release()
        else:
            self._emit(row)

    def _release(self, force: bool = False) -> None:
        """Emit the queue's head up to the first CALL event still waiting for memory (past it
        when force: too many events wait behind it)."""
        queue, emit = self._queue, self._emit
        while queue:
            head = queue[0]
            if head.__class__ is _HeldCall:
                if self._held_by_seq.get(head.tape_seq) is head:
                    if not force:
                        return
                    del self._held_by_seq[head.tape_seq]
                    del self._held[head.fields[2]]
                force = False
                head = head.row()
            queue.popleft()
            emit(head)

    def _open_result(self, result: int) -> int:
        """The LRESULT of DriverProc's DRV_OPEN (a MODM_OPEN has the same number): the tap
        sign-extends every LRESULT, but DRV_OPEN's is the instance id winmm passes back as
        the DWORD_PTR dwDriverId, zero-extended: in a 32-bit
        process one at or above 2 GiB (Wine 8.0's 32-bit msrle32 returned 0xFFFF0000) is that
        unsigned value."""
        return result & 0xFFFF_FFFF if self._tape.pointer_size == 4 else result
