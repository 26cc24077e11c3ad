"""A stored event and a session summary as the CLI shows them: table cells, CSV cells, JSON."""

import functools
import json

from drvtape.cli.output import RecordView
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import CallEvent, Event
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.classes import ENTRY_POINT_CLASSES, DriverClass, InstanceClasses, session_class_hint
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.rows import Kind
from drvtape.schema.payloads import AcmDrvOpenDescW, DrvConfigInfo, IcOpen, RawBytes, WideString
from drvtape.present.memory import CapturedBytes, memory_json
from drvtape.present.open_struct import STRUCT as MCI_OPEN_STRUCT, fields_text, mci_open_fields
from drvtape.present.text import event_detail, hex_value
from drvtape.store import EventFilter, SessionSummary

INSTANCE_EVENTS = EventFilter(msgs=(DRV_OPEN, DRV_CLOSE), kinds=(Kind.CALL, Kind.RETURN))


def summary_json(s: SessionSummary) -> dict:
    return {
        **s.header.model_dump(mode="json"), "events": s.events, "calls": s.calls, "threads": s.threads,
        "outcome": s.outcome, "end_reason": s.end_reason.value if s.end_reason else None,
        "fault_seq": s.fault_seq, "hang_seq": s.hang_seq,
    }


def session_classes(store, stored) -> InstanceClasses:
    """The class of each instance of a stored session, over its spans."""
    hint = session_class_hint(stored.header.driver)
    return InstanceClasses.from_events(store.events(stored.pk, INSTANCE_EVENTS), hint)


def event_class(ev: Event, classes: InstanceClasses | None) -> DriverClass:
    """The class of the instance an event concerns (DRV without a class map or an instance)."""
    driver_id = getattr(ev, "driver_id", None)
    entry_point = getattr(ev, "entry_point", EntryPoint.DRIVER_PROC)
    if entry_point is not EntryPoint.DRIVER_PROC:
        return ENTRY_POINT_CLASSES[entry_point]
    return DriverClass.DRV if classes is None or driver_id is None else classes.at(ev.seq, driver_id)


def blob_keys(events) -> set[str]:
    return {b.sha256 for ev in events for b in getattr(ev, "memory", ())}


def event_json(ev: Event, classes: InstanceClasses | None = None, captured: CapturedBytes | None = None) -> dict:
    msg = getattr(ev, "msg", None)
    if msg is None:
        return {**ev.model_dump(mode="json"), "msg_name": None, "class": None}
    cls = event_class(ev, classes)
    doc = {**ev.model_dump(mode="json"), "msg_name": message_name(msg, cls), "class": cls.value}
    opened = mci_open_fields(getattr(ev, "payload", None), msg, ev.entry_point)
    if opened is not None:
        doc["payload"]["lparam2"].update(struct=MCI_OPEN_STRUCT, fields=opened)
    blocks = getattr(ev, "memory", ())
    if blocks and captured is not None:
        doc["memory"] = memory_json(blocks, message_memory(cls, msg), captured.arch, captured.blobs,
                                    captured.first_bytes)
    return doc


def _fourcc(value: int) -> str:
    text = value.to_bytes(4, "little").decode("latin-1")
    return text if text.isprintable() else f"0x{value:08X}"


def _payload_text(p) -> str:
    if isinstance(p, WideString):
        return json.dumps(p.text, ensure_ascii=False)
    if isinstance(p, IcOpen):
        return f"ICOPEN({_fourcc(p.fccType)}/{_fourcc(p.fccHandler)})"
    if isinstance(p, AcmDrvOpenDescW):
        return f"ACMDRVOPENDESCW({_fourcc(p.fccType)}/{_fourcc(p.fccComp)})"
    if isinstance(p, DrvConfigInfo):
        return f"DRVCONFIGINFO({json.dumps(p.section, ensure_ascii=False)}, {json.dumps(p.alias, ensure_ascii=False)})"
    if isinstance(p, RawBytes):
        return f"bytes[{len(p.hex) // 2}]"
    raise TypeError(f"unknown payload {p!r}")


def lparam_values(ev: Event) -> tuple:
    """A call's lParams as the events table shows them: a copied payload as its text."""
    if not isinstance(ev, CallEvent):
        return None, None
    copied = (ev.payload.lparam1, ev.payload.lparam2) if ev.payload else (None, None)
    l1, l2 = (value if c is None else _payload_text(c) for value, c in zip((ev.lparam1, ev.lparam2), copied))
    opened = mci_open_fields(ev.payload, ev.msg, ev.entry_point)
    return l1, l2 if opened is None else fields_text(opened)


EVENT_COLUMNS = ("seq", "kind", "t", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2", "result")


def event_cells(ev: Event, threads: dict[int, str], classes: InstanceClasses | None = None) -> list:
    """One event as EVENT_COLUMNS: 64-bit values stay ints (the format chooses hex or decimal);
    t is milliseconds from the session start."""
    msg = getattr(ev, "msg", None)
    return [
        str(ev.seq), ev.kind, f"{ev.ts_ns // 10**6}.{ev.ts_ns % 10**6 // 1000:03d}", threads[ev.thread],
        "" if msg is None else _message_name(msg, event_class(ev, classes)),
        getattr(ev, "driver_id", None), getattr(ev, "hdrvr", None),
        *lparam_values(ev), event_detail(ev),
    ]


@functools.lru_cache(maxsize=4096)
def _message_name(code: int, cls: DriverClass) -> str:
    """message_name once per code and class: a session repeats a few messages (looking each
    up was 3 of the 12 ms CPU a 1,000-event table took)."""
    return message_name(code, cls)


def events_view(threads: dict[int, str], classes: InstanceClasses | None = None,
                captured: CapturedBytes | None = None) -> RecordView:
    """Events in a table (hex values, t in ms), as CSV (exact decimal values) or as JSON;
    messages named by the class of the instance they went to (classes), captured memory in
    JSON with its struct fields named (captured)."""
    return RecordView(
        headers=tuple("t (ms)" if c == "t" else c for c in EVENT_COLUMNS), csv_headers=EVENT_COLUMNS,
        document=lambda ev: event_json(ev, classes, captured), keys=("seq", "msg"),
        cells=lambda ev: [hex_value(v) if isinstance(v, int) or v is None else v
                          for v in event_cells(ev, threads, classes)],
        csv_cells=lambda ev: event_cells(ev, threads, classes),
    )
