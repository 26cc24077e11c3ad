"""The one text of the vocabulary: a fault's place, a fault, an end, an outcome, an event's detail.

The CLI, the timeline, replay's reports, the DLL host's errors and the tape reader all show
these the same way. Message names are drvtape.schema.memory.catalog.message_name, LRESULTs
drvtape.schema.values.lresult.
"""

from __future__ import annotations

from drvtape.schema.events import EndEvent, Event, FaultEvent, MarkEvent, ReturnEvent
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.outcome import Outcome, OutcomeKind


def hex_value(value: int | None) -> str:
    """A value as the CLI's tables show it: hex when not negative, '' when absent."""
    return "" if value is None else (f"0x{value:X}" if value >= 0 else str(value))


def value_text(value: int | str) -> str:
    """An lParam or a result: hex as the CLI shows it; a copied pointer's text as it is."""
    return hex_value(value) if isinstance(value, int) else str(value)


def fault_place(module: str | None, offset: int | None) -> str | None:
    """module+0xOFFSET; the module alone; 0xADDRESS when the address is in no module; None if unknown."""
    if module:
        return f"{module}+0x{offset:X}" if offset is not None else module
    return f"0x{offset:X}" if offset is not None else None


def exception_code(code: int) -> str:
    return f"0x{code:08X}"


def fault_text(code: int, module: str | None = None, offset: int | None = None,
               description: str | None = None) -> str:
    """A fault as an event line shows it: fault 0xC0000005 at mod.dll+0x4F2: what happened."""
    place = fault_place(module, offset)
    return (f"fault {exception_code(code)}" + (f" at {place}" if place else "")
            + (f": {description}" if description else ""))


def end_text(reason: str, detail: str | None) -> str:
    return str(reason) + (f": {detail}" if detail else "")


def outcome_text(outcome: Outcome) -> str:
    """How a run ended, in one line: fault 0xC0000005 in mod+0x1140 at seq 11 (DRV_CLOSE)."""
    where = ""
    if outcome.seq is not None:
        named = f" ({message_name(outcome.msg, outcome.cls)})" if outcome.msg is not None else ""
        where = f" at seq {outcome.seq}{named}"
    if outcome.kind is OutcomeKind.FAULT:
        place = fault_place(outcome.module, outcome.offset)
        return f"fault {exception_code(outcome.code)}" + (f" in {place}" if place else "") + where
    if outcome.kind is OutcomeKind.DIVERGED:
        return f"diverged{where}: expected {outcome.expected}, got {outcome.actual}"
    return outcome.kind.value + where


def event_detail(ev: Event) -> int | str | None:
    """The detail column of an event line: a return's LRESULT, a fault, a mark's text, an end."""
    if isinstance(ev, ReturnEvent):
        return ev.result
    if isinstance(ev, FaultEvent):
        return fault_text(ev.code, ev.module, ev.offset, ev.description)
    if isinstance(ev, MarkEvent):
        return ev.text
    if isinstance(ev, EndEvent):
        return end_text(ev.reason.value, ev.detail)
    return None  # a call: its parameters are the line
