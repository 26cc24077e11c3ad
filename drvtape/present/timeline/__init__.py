"""A session as one self-contained HTML sequence diagram (`drvtape timeline`)."""

import json
from importlib import resources

from drvtape.present.memory import CapturedBytes, memory_text
from drvtape.present.open_struct import fields_text, stored_mci_open_fields
from drvtape.present.text import end_text, fault_text, value_text
from drvtape.schema import details
from drvtape.schema.entry_points import EntryPoint, entry_point_of
from drvtape.schema.memory.captured import Phase
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.classes import DriverClass, InstanceClasses, session_class_hint
from drvtape.schema.messages import describe
from drvtape.schema.rows import Kind

# Lanes: one per thread (where calls come from), then the driver as a whole (DRV_LOAD,
# DRV_ENABLE, DRV_DISABLE, DRV_FREE ...) and one per instance. Instances are told apart by
# hdrvr: a driver may hand every instance the same dwDriverId (docs/domain.md).


def captured_text(payload: str | None, phase: Phase, msg: int, cls: DriverClass,
                  captured: CapturedBytes | None) -> str:
    """The memory a call or return captured, a line per block with its struct fields ('' when none)."""
    blocks = details.decode_memory(payload, phase) if captured is not None else ()
    return memory_text(blocks, message_memory(cls, msg), captured) if blocks else ""


def timeline_data(header, rows, captured: CapturedBytes | None = None) -> dict:
    """What the page draws: lanes, and one compact array per event (a call's and a return's
    ends with its captured memory's text when captured gives the bytes to name fields by)."""
    threads: dict[int, int] = {}
    instances: dict[int, int] = {}
    calls: dict[int, tuple] = {}
    events = []
    classes = InstanceClasses.from_rows(rows, session_class_hint(header.driver))
    for seq, kind, ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, _dur, payload, entry_point in rows:
        t = threads.setdefault(thread, len(threads))
        if kind == Kind.CALL:
            target = _lane(instances, msg, hdrvr, entry_point_of(entry_point))
            cls = classes.of_call(seq, driver_id, entry_point_of(entry_point))
            name = message_name(msg, cls)
            calls[seq] = (target, name, cls)
            args = f"id=0x{driver_id:X} hdrvr=0x{hdrvr:X} l1={value_text(l1)} l2={value_text(l2)}"
            opened = stored_mci_open_fields(payload, msg, entry_point_of(entry_point))
            args += f" {fields_text(opened)}" if opened is not None else (f" {payload}" if payload else "")
            events.append([seq, "call", ts, t, target, name, args, depth,
                           captured_text(payload, Phase.CALL, msg, cls, captured)])
        elif kind in (Kind.RETURN, Kind.FAULT):
            target, name, cls = calls.get(call_seq, (-1, None, classes.of_call(seq, driver_id, entry_point_of(entry_point))))
            name = name or message_name(msg, cls)
            if kind == Kind.FAULT:
                fault = details.decode_fault(payload)
                events.append([seq, "fault", ts, t, target, name, fault_text(fault.code, fault.module, fault.offset),
                               call_seq])
            else:
                events.append([seq, "return", ts, t, target, name, f"-> {value_text(result)}", call_seq,
                               captured_text(payload, Phase.RETURN, msg, cls, captured)])
        else:
            if kind == Kind.MARK:
                detail = details.decode_mark(payload)
            else:
                end = details.decode_end(payload)
                detail = end_text(end.reason.value, end.detail)
            events.append([seq, "mark" if kind == Kind.MARK else "end", ts, t, -1, "", detail, call_seq])
    answered = {e[7] for e in events if e[1] in ("return", "fault")}
    hung = sorted(seq for seq in calls if seq not in answered)
    return {
        "session": str(header.id), "driver": header.driver, "started_at": header.started_at.isoformat(),
        "threads": [f"{thread} (0x{thread:X})" for thread in threads],
        "instances": [_lane_name(key) for key in instances],
        "events": events,
        "hung": hung,
    }


def _lane(instances: dict, msg: int, hdrvr: int, entry_point: EntryPoint) -> int:
    """The lane of a call: its instance (hdrvr) for a per-instance DRV_* message, its device
    (entry point and uDeviceID) for a device entry point's message, else -1 (the driver's)."""
    if entry_point is not EntryPoint.DRIVER_PROC:
        return instances.setdefault((entry_point, hdrvr), len(instances))
    return instances.setdefault(hdrvr, len(instances)) if describe(msg).per_instance else -1


def _lane_name(key) -> str:
    if isinstance(key, tuple):
        return f"{key[0].value} device {key[1]}"
    return f"hdrvr 0x{key:X}"


def timeline_html(data: dict) -> str:
    template = resources.files("drvtape.present.timeline").joinpath("page.html").read_text(encoding="utf-8")
    # </script> inside the data must not end the script element
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return template.replace("/*DATA*/null", payload)
