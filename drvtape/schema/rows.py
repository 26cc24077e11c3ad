"""The flat row shape of an event: what the database stores and the recorder buffers.

One EventRow per event, its fields in ROW_COLUMNS order; being a tuple, a row may also be
written as a plain tuple in that order (the hook's hot path does). 64-bit unsigned values
(thread, driver_id, hdrvr) are kept unsigned here; the store converts them to the signed
BIGINT bits on the way in and back on the way out. Details that have no column of their
own are JSON in `payload` (drvtape.schema.details).

Every producer of events builds its rows with the builders below (directly, or from event
models through event_to_row).
"""

from enum import IntEnum
from typing import NamedTuple

from pydantic import TypeAdapter, ValidationError

from drvtape.schema import details
from drvtape.schema.entry_points import entry_point_of, stored_code
from drvtape.schema.events import CallEvent, EndEvent, EndReason, Event, FaultEvent, MarkEvent, ReturnEvent
from drvtape.schema.memory.captured import Phase


class Kind(IntEnum):
    CALL = 0
    RETURN = 1
    FAULT = 2
    MARK = 3
    END = 4


class EventRow(NamedTuple):
    seq: int
    kind: int
    ts_ns: int
    thread: int
    msg: int | None
    driver_id: int | None
    hdrvr: int | None
    lparam1: int | None
    lparam2: int | None
    result: int | None
    call_seq: int | None
    depth: int | None
    duration_ns: int | None
    payload: str | None
    entry_point: int | None = None  # drvtape.schema.entry_points' code; None: DriverProc (schema 7)


ROW_COLUMNS = EventRow._fields
KIND_NAMES = {k: k.name.lower() for k in Kind}
KIND_BY_NAME = {v: k for k, v in KIND_NAMES.items()}
CALL, RETURN, FAULT, MARK, END = (int(k) for k in Kind)  # plain ints: what rows hold

_event_adapter: TypeAdapter = TypeAdapter(Event)


def call_row(seq: int, ts_ns: int, thread: int, msg: int, driver_id: int, hdrvr: int, lparam1: int,
             lparam2: int, depth: int, payload: str | None = None, entry_point: int | None = None) -> EventRow:
    """payload: the call's CallPayloads as details.encode_call gives them (None: no pointer data);
    entry_point: its stored code (entry_points.stored_code; None: DriverProc)."""
    return EventRow(seq, CALL, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2, None, None, depth, None,
                    payload, entry_point)


def return_row(seq: int, ts_ns: int, thread: int, msg: int, driver_id: int, hdrvr: int, result: int,
               call_seq: int, duration_ns: int, payload: str | None = None, entry_point: int | None = None) -> EventRow:
    """payload: the memory the driver wrote, as details.encode_return gives it (None: none captured)."""
    return EventRow(seq, RETURN, ts_ns, thread, msg, driver_id, hdrvr, None, None, result, call_seq, None,
                    duration_ns, payload, entry_point)


def fault_row(seq: int, ts_ns: int, thread: int, msg: int, driver_id: int, hdrvr: int, call_seq: int, code: int,
              module: str | None = None, offset: int | None = None, description: str | None = None,
              entry_point: int | None = None) -> EventRow:
    return EventRow(seq, FAULT, ts_ns, thread, msg, driver_id, hdrvr, None, None, None, call_seq, None, None,
                    details.encode_fault(code, module, offset, description), entry_point)


def mark_row(seq: int, ts_ns: int, thread: int, text: str) -> EventRow:
    return EventRow(seq, MARK, ts_ns, thread, None, None, None, None, None, None, None, None, None,
                    details.encode_mark(text))


def end_row(seq: int, ts_ns: int, thread: int, reason: EndReason | str, call_seq: int | None = None,
            detail: str | None = None) -> EventRow:
    return EventRow(seq, END, ts_ns, thread, None, None, None, None, None, None, call_seq, None, None,
                    details.encode_end(reason, detail))


def event_to_row(ev) -> EventRow:
    if isinstance(ev, CallEvent):
        return call_row(ev.seq, ev.ts_ns, ev.thread, ev.msg, ev.driver_id, ev.hdrvr, ev.lparam1, ev.lparam2,
                        ev.depth, details.encode_call(ev.payload, ev.memory), stored_code(ev.entry_point))
    if isinstance(ev, ReturnEvent):
        return return_row(ev.seq, ev.ts_ns, ev.thread, ev.msg, ev.driver_id, ev.hdrvr, ev.result, ev.call_seq,
                          ev.duration_ns, details.encode_return(ev.memory), stored_code(ev.entry_point))
    if isinstance(ev, FaultEvent):
        return fault_row(ev.seq, ev.ts_ns, ev.thread, ev.msg, ev.driver_id, ev.hdrvr, ev.call_seq, ev.code,
                         ev.module, ev.offset, ev.description, stored_code(ev.entry_point))
    if isinstance(ev, MarkEvent):
        return mark_row(ev.seq, ev.ts_ns, ev.thread, ev.text)
    if isinstance(ev, EndEvent):
        return end_row(ev.seq, ev.ts_ns, ev.thread, ev.reason, ev.call_seq, ev.detail)
    raise TypeError(f"not an event: {ev!r}")


def row_to_event(row: EventRow) -> Event:
    """The event model of a stored row; DamagedDetail for a row drvtape never writes."""
    try:
        kind = Kind(row.kind)
    except ValueError:
        raise details.DamagedDetail(f"seq {row.seq} has an unknown kind {row.kind!r}") from None
    data: dict = {"kind": KIND_NAMES[kind], "seq": row.seq, "ts_ns": row.ts_ns, "thread": row.thread}
    if kind <= Kind.FAULT:
        data["entry_point"] = _entry_point(row)
    if kind is Kind.CALL:
        data.update(msg=row.msg, driver_id=row.driver_id, hdrvr=row.hdrvr, lparam1=row.lparam1,
                    lparam2=row.lparam2, depth=row.depth, payload=details.decode_call(row.payload),
                    memory=details.decode_memory(row.payload, Phase.CALL))
    elif kind is Kind.RETURN:
        data.update(msg=row.msg, driver_id=row.driver_id, hdrvr=row.hdrvr, result=row.result,
                    call_seq=row.call_seq, duration_ns=row.duration_ns,
                    memory=details.decode_memory(row.payload, Phase.RETURN))
    elif kind is Kind.FAULT:
        data.update(msg=row.msg, driver_id=row.driver_id, hdrvr=row.hdrvr, call_seq=row.call_seq,
                    **details.decode_fault(row.payload)._asdict())
    elif kind is Kind.MARK:
        data.update(text=details.decode_mark(row.payload))
    else:
        data.update(call_seq=row.call_seq, **details.decode_end(row.payload)._asdict())
    try:
        return _event_adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise details.DamagedDetail(f"seq {row.seq} has a {where} that is not valid ({first['msg']}, "
                                    f"got {first.get('input')!r:.60})") from None


def _entry_point(row: EventRow):
    try:
        return entry_point_of(row.entry_point)
    except ValueError as exc:
        raise details.DamagedDetail(f"seq {row.seq} has an {exc}") from None

