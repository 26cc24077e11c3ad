"""A loaded session's calls as columns (issue 16): what replay holds per call.

A RecordedCall of a plain call (no payload, no memory, returned) held about 250 bytes with
its own ints (seq, lparam, returned_at); here it is ten 8-byte array slots and two bytes.
The other calls (with memory or a payload, never returned, or a value no column holds) are
kept as RecordedCall objects (`detailed`): they are what the payload checks and the memory
plan look at, so those passes read them and the columns, never every call as an object.
A call is made a RecordedCall again when it is asked for by index (the run does, once).

The rows are read a piece at a time: a piece ends where no call is in flight, so pairing a
call with its return needs nothing from the pieces before. A piece of plain calls only is put
in the columns straight from its rows (_plain_table); any other is read by
schema.recording.recording_from_rows, the reference the plain way is tested against.
A session whose calls always overlap is one piece (it is held whole while loading, as before).
"""
from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import chain, repeat, starmap

from drvtape.schema.entry_points import ENTRY_POINTS, EntryPoint, entry_point_of
from drvtape.schema.memory.classes import UNCLOSED, DriverClass, InstanceClasses, session_class_hint
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.outcome import COMPLETED, Outcome
from drvtape.schema.recording import BlobLoader, RecordedCall, Recording, no_blobs, recording_from_rows
from drvtape.schema.details import decode_end
from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema.rows import CALL, END, FAULT, RETURN

_BLOCK = 1024  # calls built at once when one is asked for by index
PIECE = 20_000  # rows read at a time (at least; a piece ends with no call in flight)
_CLASSES = tuple(DriverClass)
_CLASS_CODE = {c: i for i, c in enumerate(_CLASSES)}
_ENTRY_CODE = {e: i for i, e in enumerate(ENTRY_POINTS)}
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64 = (0, (1 << 64) - 1)
# column -> (array type code, the range it holds)
_COLUMNS = {"seq": ("q", _INT64), "thread": ("q", _INT64), "msg": ("q", _INT64), "driver_id": ("Q", _UINT64),
            "hdrvr": ("Q", _UINT64), "lparam1": ("q", _INT64), "lparam2": ("q", _INT64),
            "result": ("q", _INT64), "returned_at": ("q", _INT64), "returned_id": ("Q", _UINT64)}


class CallTable(Sequence):
    """RecordedCalls in seq order, as columns; a Sequence of RecordedCall to everything else."""

    def __init__(self):
        for name, (code, _) in _COLUMNS.items():
            setattr(self, name, array(code))
        self.cls = bytearray()  # index into DriverClass
        self.entry = bytearray()  # index into ENTRY_POINTS
        self.detailed: dict[int, RecordedCall] = {}  # index -> the call, for those not plain
        self._blocks: dict[int, list[RecordedCall]] = {}  # the last blocks asked for by index (replaced, never changed)

    def append(self, call: RecordedCall, thread: int | None = None) -> None:
        """Add the call, as the session's lane `thread` when given (its piece numbered it otherwise)."""
        index = len(self.seq)
        plain = (call.payload is None and not call.memory_in and not call.memory_out and call.result is not None
                 and call.returned_at is not None and call.returned_id is not None)
        for name, (_, (low, high)) in _COLUMNS.items():
            value = thread if name == "thread" and thread is not None else getattr(call, name)
            if value is None or not low <= value <= high:
                plain, value = False, 0
            getattr(self, name).append(value)
        self.cls.append(_CLASS_CODE[call.cls])
        self.entry.append(_ENTRY_CODE[call.entry_point])
        self._blocks = {}
        if not plain:
            self.detailed[index] = call if thread in (None, call.thread) else replace(call, thread=thread)

    def __iter__(self) -> Iterator[RecordedCall]:
        """Every call, built (minimize, explore and a dll: run's host calls read them so)."""
        return self._built(0, len(self))

    def __len__(self) -> int:
        return len(self.seq)

    def __getitem__(self, index):
        if isinstance(index, slice):  # a list, as a list's slice is (callers add to them); first() keeps a table
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        block, at = divmod(index, _BLOCK)
        blocks = self._blocks  # one dict, replaced whole: lanes of a py: target may ask at once
        calls = blocks.get(block)
        if calls is None:
            if not 0 <= index < len(self):
                raise IndexError("call index out of range")
            calls = list(self._built(block * _BLOCK, (block + 1) * _BLOCK))
            # the last two blocks: a run's, and a look-back at a call just returned (a hang's, a fault's)
            self._blocks = {**dict(list(blocks.items())[-1:]), block: calls}
        return calls[at]

    def _built(self, start: int, stop: int) -> Iterator[RecordedCall]:
        """The calls start..stop, built from the columns zipped (C level, about half the cost of
        one by one); the detailed ones as they are."""
        whole = start == 0 and stop >= len(self)  # not copied: a copy of every column is the table again
        columns = [getattr(self, name) if whole else getattr(self, name)[start:stop] for name in (*_COLUMNS, "cls", "entry")]
        seq, thread, msg, driver_id, hdrvr, lparam1, lparam2, result, returned_at, returned_id, cls, entry = columns
        built = starmap(RecordedCall, zip(
            seq, thread, msg, driver_id, hdrvr, lparam1, lparam2, repeat(None), result, returned_at, repeat(()),
            repeat(()), map(_CLASSES.__getitem__, cls), map(ENTRY_POINTS.__getitem__, entry), returned_id))
        if not self.detailed:
            return built
        return (self.detailed.get(i, call) for i, call in enumerate(built, start))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def extend(self, other: CallTable) -> None:
        """Add other's calls after these."""
        offset = len(self)
        for name in (*_COLUMNS, "cls", "entry"):
            getattr(self, name).extend(getattr(other, name))
        self.detailed.update((offset + i, c) for i, c in other.detailed.items())
        self._blocks = {}

    def head(self, count: int) -> CallTable:
        """The first `count` calls, as a table of their own."""
        out = CallTable()
        for name in (*_COLUMNS, "cls", "entry"):
            setattr(out, name, getattr(self, name)[:count])
        out.detailed = {i: c for i, c in self.detailed.items() if i < count}
        return out

    def classes(self) -> Iterator[DriverClass]:
        return map(_CLASSES.__getitem__, self.cls)

    def entry_points(self) -> Iterator[EntryPoint]:
        return map(ENTRY_POINTS.__getitem__, self.entry)

    def set_class(self, index: int, cls: DriverClass) -> None:
        self.cls[index] = _CLASS_CODE[cls]
        self._blocks = {}
        if index in self.detailed:
            self.detailed[index] = replace(self.detailed[index], cls=cls)


ORDER_FIELDS = ("seq", "thread", "msg", "driver_id", "result", "returned_at")  # and the entry point's code


def order_fields(calls: Sequence[RecordedCall]) -> Iterable[tuple]:
    """Each call's ORDER_FIELDS and its entry point's code (0: DriverProc), in order: what
    replay/order.py reads."""
    return call_fields(calls, ORDER_FIELDS)


def call_fields(calls: Sequence[RecordedCall], names: Sequence[str]) -> Iterable[tuple]:
    """Each call's fields `names` and its entry point's code (0: DriverProc), in order. A
    table's come from its columns (a detailed call's from the call: its columns may hold 0 for
    None), no RecordedCall built."""
    def of(c: RecordedCall) -> tuple:
        return (*(getattr(c, name) for name in names), _ENTRY_CODE[c.entry_point])

    if not isinstance(calls, CallTable):
        return map(of, calls)
    columns = [memoryview(getattr(calls, name)) for name in names] + [memoryview(calls.entry)]
    pieces, start = [], 0
    for i in sorted(calls.detailed):
        pieces.append(zip(*(col[start:i] for col in columns)))
        pieces.append([of(calls.detailed[i])])
        start = i + 1
    pieces.append(zip(*(col[start:] for col in columns)))
    return chain.from_iterable(pieces)


def first(calls: Sequence[RecordedCall], count: int) -> Sequence[RecordedCall]:
    """The first `count` calls: a table's as a table (and replay/streamed.py's as its own)."""
    head = getattr(calls, "head", None)
    return head(count) if head is not None else calls[:count]


def detailed(calls: Sequence[RecordedCall]) -> Iterator[tuple[int, RecordedCall]]:
    """(index, call) of the calls with a payload or memory, in order (a table's detailed calls
    may include others: every caller tests what it needs)."""
    if isinstance(calls, CallTable):
        return iter(sorted(calls.detailed.items()))
    return ((i, c) for i, c in enumerate(calls) if c.payload is not None or c.memory_in or c.memory_out)


def has_memory(calls: Sequence[RecordedCall]) -> bool:
    """Some call has memory captured around it."""
    return any(c.memory_in or c.memory_out for _, c in detailed(calls))


def message_keys(calls: Sequence[RecordedCall]) -> Iterable[tuple[DriverClass, int]]:
    """Each call's (class, msg), in order."""
    if isinstance(calls, CallTable):
        return zip(calls.classes(), calls.msg)
    return ((c.cls, c.msg) for c in calls)


def column(calls: Sequence[RecordedCall], name: str) -> Sequence:
    """One field of every call (a table's own column; see CallTable for what a detailed call's holds there)."""
    if isinstance(calls, CallTable):
        return getattr(calls, name)
    return [getattr(c, name) for c in calls]


def entry_points(calls: Sequence[RecordedCall]) -> Iterable[EntryPoint]:
    return calls.entry_points() if isinstance(calls, CallTable) else (c.entry_point for c in calls)


def load_table(header: SessionHeader, rows: Iterable[tuple], load_blobs: BlobLoader = no_blobs) -> Recording:
    """The recording of a session's rows (read once, as an iterator gives them) with its calls in a CallTable."""
    table, outcome = CallTable(), COMPLETED
    for piece, piece_outcome in table_pieces(header, rows):
        table.extend(piece)
        if outcome is COMPLETED:
            outcome = piece_outcome
    return Recording(header, table, outcome, load_blobs)


def table_pieces(header: SessionHeader, rows: Iterable[tuple]) -> Iterator[tuple[CallTable, Outcome]]:
    """A session's calls a piece at a time, each piece a CallTable numbered and classed as in
    the whole session's (its lanes, its instances' classes), with the outcome its rows show
    (COMPLETED until the piece holding the session's fault or end). Only a piece is held."""
    lanes: dict[int, int] = {}
    still_open: list[RecordedCall] = []
    hint = session_class_hint(header.driver)
    for piece, threads in _pieces(rows):
        table, outcome = _plain_table(piece, lanes), COMPLETED
        if table is None:
            part = recording_from_rows(header, piece)
            lane_of = [lanes.setdefault(t, len(lanes)) for t in threads]  # the piece's lanes -> the session's
            table = CallTable()
            for call in part.calls:
                table.append(call, lane_of[call.thread])
            outcome = part.outcome
            del part
        del piece  # not held while the next piece is read
        still_open = _set_classes(table, still_open, hint)
        yield table, outcome
        del table


def _plain_table(rows: list[tuple], lanes: dict[int, int]) -> CallTable | None:
    """A piece's calls put in the columns straight from its rows, when every one of them is
    plain (no payload on its call or return, returned, every value in its column's range) and
    the piece holds no fault or hang; else None (recording_from_rows reads it). What it builds
    is what that reading builds, without a RecordedCall per call: a piece read so costs a
    fraction of one read so (bench/replay_bench.py). Every call is DRV until _set_classes.
    lanes: the session's lanes, numbered in the order their threads first made an outer call,
    as table_pieces numbers them."""
    table = CallTable()
    seqs, lane_col, msgs, ids, hdrvrs, l1s, l2s, results, returned_ats, returned_ids = (
        getattr(table, name) for name in _COLUMNS)
    entries = table.entry
    in_flight: dict[int, int] = {}  # seq of an outer call -> its index
    try:
        for seq, kind, _ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, _dur, payload, code in rows:
            if kind == CALL:
                if depth:  # a re-entrant call: the driver's own, not replayed
                    continue
                if payload is not None:
                    return None
                try:
                    entry = _ENTRY_CODE[entry_point_of(code)]
                except ValueError:  # a code drvtape never writes: recording_from_rows names it
                    return None
                in_flight[seq] = len(seqs)
                seqs.append(seq)
                lane_col.append(lanes.setdefault(thread, len(lanes)))
                msgs.append(msg)
                ids.append(driver_id)
                hdrvrs.append(hdrvr)
                l1s.append(l1)
                l2s.append(l2)
                entries.append(entry)
                results.append(0)
                returned_ats.append(0)
                returned_ids.append(0)
            elif kind == RETURN:
                index = in_flight.pop(call_seq, None)
                if index is None:  # a re-entrant call's
                    continue
                if payload is not None:
                    return None
                results[index], returned_ats[index], returned_ids[index] = result, seq, driver_id
            elif kind == FAULT or kind == END and call_seq is not None and decode_end(payload).reason is EndReason.HANG:
                return None
    except (OverflowError, TypeError):  # a value past its column's range, or none (NULL)
        return None
    if in_flight:  # a call that never returned
        return None
    table.cls = bytearray([_CLASS_CODE[DriverClass.DRV]]) * len(seqs)
    return table


def _pieces(rows: Iterable[tuple]) -> Iterator[tuple[list, list[int]]]:
    """The rows in pieces that end with no outer call in flight, each with the threads of its
    outer calls in order of first appearance (recording_from_rows numbers a piece's lanes so)."""
    piece, threads, seen, in_flight = [], [], set(), set()
    for row in rows:
        piece.append(row)
        kind = row[1]
        if kind == CALL and row[11] == 0:
            in_flight.add(row[0])
            if row[3] not in seen:
                seen.add(row[3])
                threads.append(row[3])
        elif kind == RETURN:
            in_flight.discard(row[10])
        if len(piece) >= PIECE and not in_flight:
            yield piece, threads
            piece, threads, seen = [], [], set()
    if piece:
        yield piece, threads


def _set_classes(table: CallTable, still_open: list[RecordedCall], hint: DriverClass) -> list[RecordedCall]:
    """Each call's instance class over the whole session (recording_from_rows saw one piece at
    a time), from its DRV_OPENs and DRV_CLOSEs as schema.memory.classes.call_classes does, and
    the DRV_OPENs still open after the piece: a call's class depends on no later event, so a
    piece needs only those of the pieces before it."""
    opens = [*still_open, *(table[i] for i, msg in enumerate(table.msg) if msg in (DRV_OPEN, DRV_CLOSE))]
    classes = InstanceClasses.from_calls(opens, hint)
    if classes.spans or any(table.entry):  # else every call is DRV: no instance has a class, no device entry point
        detailed_calls = table.detailed
        for i, (seq, driver_id, entry) in enumerate(zip(table.seq, table.driver_id, table.entry_points())):
            if i in detailed_calls:  # its columns may hold 0 for a value they cannot
                seq, driver_id = detailed_calls[i].seq, detailed_calls[i].driver_id
            cls = classes.of_call(seq, driver_id, entry)
            if cls is not _CLASSES[table.cls[i]]:
                table.set_class(i, cls)
    open_at = {(c.returned_at or c.seq, c.result): c for c in opens if c.msg == DRV_OPEN}
    return [open_at[spans[-1][0], driver_id] for driver_id, spans in classes.spans.items()
            if spans[-1][1] == UNCLOSED]


__all__ = ["CallTable", "call_fields", "column", "detailed", "entry_points", "first", "has_memory", "load_table",
           "message_keys", "order_fields", "table_pieces"]
