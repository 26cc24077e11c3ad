"""The flat row shape of an event: what the database stores and the recorder buffers.

One tuple per event, in ROW_COLUMNS order. 64-bit unsigned values (thread, driver_id,
hdrvr) are kept unsigned here; the store converts them to the signed BIGINT bits on the way
in and back on the way out. Details that have no column of their own (a fault's code and
place, a mark's text, an end's reason, a call's pointer payloads) are JSON in `payload`.
"""

import json
from enum import IntEnum

from pydantic import TypeAdapter

from drvtape.schema.events import CallEvent, EndEvent, Event, FaultEvent, MarkEvent, ReturnEvent

ROW_COLUMNS = (
    "seq", "kind", "ts_ns", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2",
    "result", "call_seq", "depth", "duration_ns", "payload",
)


class Kind(IntEnum):
    CALL = 0
    RETURN = 1
    FAULT = 2
    MARK = 3
    END = 4


KIND_NAMES = {k: k.name.lower() for k in Kind}
KIND_BY_NAME = {v: k for k, v in KIND_NAMES.items()}

_event_adapter: TypeAdapter = TypeAdapter(Event)


def _dumps(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def event_to_row(ev) -> tuple:
    if isinstance(ev, CallEvent):
        payload = _dumps(ev.payload.model_dump(exclude_none=True)) if ev.payload else None
        return (ev.seq, Kind.CALL, ev.ts_ns, ev.thread, ev.msg, ev.driver_id, ev.hdrvr,
                ev.lparam1, ev.lparam2, None, None, ev.depth, None, payload)
    if isinstance(ev, ReturnEvent):
        return (ev.seq, Kind.RETURN, ev.ts_ns, ev.thread, ev.msg, ev.driver_id, ev.hdrvr,
                None, None, ev.result, ev.call_seq, None, ev.duration_ns, None)
    if isinstance(ev, FaultEvent):
        detail = {"code": ev.code, "module": ev.module, "offset": ev.offset, "description": ev.description}
        return (ev.seq, Kind.FAULT, ev.ts_ns, ev.thread, ev.msg, ev.driver_id, ev.hdrvr,
                None, None, None, ev.call_seq, None, None, _dumps(detail))
    if isinstance(ev, MarkEvent):
        return (ev.seq, Kind.MARK, ev.ts_ns, ev.thread, None, None, None,
                None, None, None, None, None, None, _dumps({"text": ev.text}))
    if isinstance(ev, EndEvent):
        detail = {"reason": ev.reason.value, "detail": ev.detail}
        return (ev.seq, Kind.END, ev.ts_ns, ev.thread, None, None, None,
                None, None, None, ev.call_seq, None, None, _dumps(detail))
    raise TypeError(f"not an event: {ev!r}")


def row_to_event(row) -> Event:
    (seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2,
     result, call_seq, depth, duration_ns, payload) = row
    kind = Kind(kind)
    data: dict = {"kind": KIND_NAMES[kind], "seq": seq, "ts_ns": ts_ns, "thread": thread}
    if kind is Kind.CALL:
        data.update(msg=msg, driver_id=driver_id, hdrvr=hdrvr, lparam1=lparam1, lparam2=lparam2,
                    depth=depth, payload=json.loads(payload) if payload else None)
    elif kind is Kind.RETURN:
        data.update(msg=msg, driver_id=driver_id, hdrvr=hdrvr, result=result,
                    call_seq=call_seq, duration_ns=duration_ns)
    elif kind is Kind.FAULT:
        data.update(msg=msg, driver_id=driver_id, hdrvr=hdrvr, call_seq=call_seq, **json.loads(payload))
    elif kind is Kind.MARK:
        data.update(json.loads(payload))
    else:
        data.update(call_seq=call_seq, **json.loads(payload))
    return _event_adapter.validate_python(data)

