"""One call as `show --seq`/`--msg` prints it: its message by class, both lParams and what the
catalog says they are, how it returned (or faulted, or never did), and the memory captured at
call and at return, its structs field by field (present/memory.py, as events --json and the
timeline decode them)."""

from dataclasses import dataclass

from rich.table import Table

from drvtape.cli.event_view import event_class, event_json, lparam_values
from drvtape.cli.output import add_row, out, print_table, table
from drvtape.errors import DrvtapeError
from drvtape.present.memory import CapturedBytes, block_rows
from drvtape.present.text import event_detail, hex_value, value_text
from drvtape.schema.events import CallEvent, EndEvent, Event, FaultEvent, ReturnEvent
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.classes import InstanceClasses
from drvtape.schema.memory.selector import MessageSelector
from drvtape.schema.rows import Kind
from drvtape.store import EventFilter

FIRST_BYTES = 16  # of a frame, an audio buffer, a colour table
RETURN_CHUNK = 256  # events read at a time while looking for a call's return
ENDINGS = (Kind.RETURN, Kind.FAULT)


@dataclass(frozen=True)
class ShownCall:
    call: CallEvent
    ending: ReturnEvent | FaultEvent | EndEvent | None  # its return, fault, the end naming it, or none


def ending_of(store, session_pk: int, call: CallEvent, end: EndEvent | None) -> Event | None:
    """The return or fault of a call (read a chunk at a time from the call on), else the
    session's end when it names the call (a hang, a crash)."""
    start = call.seq + 1
    same_message = MessageSelector(call.msg, call.entry_point)
    while found := store.events(session_pk, EventFilter(msgs=(same_message,), kinds=ENDINGS, from_seq=start,
                                                        limit=RETURN_CHUNK)):
        ending = next((ev for ev in found if ev.call_seq == call.seq), None)
        if ending is not None:
            return ending
        start = found[-1].seq + 1
    return end_naming(end, call)


def end_naming(end: EndEvent | None, call: CallEvent) -> EndEvent | None:
    """The session's end if it names the call (a hang or crash in it)."""
    return end if end is not None and end.call_seq == call.seq else None


def call_at(store, stored, seq: int, end: EndEvent | None) -> ShownCall:
    """The call at seq (a return's or fault's seq: the call it ends); one line for any other seq."""
    (ev,) = store.events(stored.pk, EventFilter(from_seq=seq, to_seq=seq)) or (None,)
    if isinstance(ev, (ReturnEvent, FaultEvent)):
        (ev,) = store.events(stored.pk, EventFilter(from_seq=ev.call_seq, to_seq=ev.call_seq))
    if not isinstance(ev, CallEvent):
        what = "no event" if ev is None else ("its end" if isinstance(ev, EndEvent) else "a mark")
        raise DrvtapeError(f"seq {seq} of session {stored.header.id} is {what}, not a call: give the seq of a call "
                           "or its return (drvtape events lists them)")
    return ShownCall(ev, ending_of(store, stored.pk, ev, end))


def calls_of(store, stored, selector: MessageSelector, end: EndEvent | None) -> list[ShownCall]:
    """Every call of a message (as `events --msg` selects it: DRV_EXITSESSION's number is also
    a MIDI driver's MODM_SETVOLUME) in the session, each with its return or fault."""
    found = store.events(stored.pk, EventFilter(msgs=(selector,), kinds=(Kind.CALL, *ENDINGS)))
    endings = {ev.call_seq: ev for ev in found if not isinstance(ev, CallEvent)}
    return [ShownCall(ev, endings.get(ev.seq) or end_naming(end, ev)) for ev in found if isinstance(ev, CallEvent)]


def call_json(shown: ShownCall, classes: InstanceClasses, captured: CapturedBytes) -> dict:
    """{"call": the call as events --json has it, with what its lParams and result are,
    "return": its return, fault or the end naming it (null: none recorded)}, memory with the
    first bytes past each block's fields."""
    message = message_memory(event_class(shown.call, classes), shown.call.msg)
    meaning = {"lparam1_is": message.lparam1, "lparam2_is": message.lparam2, "returns": message.returns} \
        if message is not None else {"lparam1_is": None, "lparam2_is": None, "returns": None}
    return {"call": {**event_json(shown.call, classes, captured), **meaning},
            "return": None if shown.ending is None else event_json(shown.ending, classes, captured)}


def print_call(shown: ShownCall, threads: dict[int, str], classes: InstanceClasses, captured: CapturedBytes) -> None:
    call = shown.call
    cls = event_class(call, classes)
    message = message_memory(cls, call.msg)
    grid = Table.grid(padding=(0, 2))
    add_row(grid, ("seq", f"{call.seq} (call, depth {call.depth})"))
    add_row(grid, ("message", f"{message_name(call.msg, cls)} (0x{call.msg:X}, class {cls.value}, "
                              f"{call.entry_point.value})"))
    add_row(grid, ("thread", threads[call.thread]))
    add_row(grid, ("driver_id", f"{hex_value(call.driver_id)}, hdrvr {hex_value(call.hdrvr)}"))
    for n, value in enumerate(lparam_values(call), start=1):
        what = "unknown meaning" if message is None else getattr(message, f"lparam{n}")
        add_row(grid, (f"lparam{n}", f"{value_text(value)}: {what}"))
    add_row(grid, ("returned", _ending_text(shown.ending, message)))
    print_table(grid)
    for phase, blocks in (("at call (what the driver reads)", call.memory),
                          ("at return (what the driver wrote)", getattr(shown.ending, "memory", ()))):
        if not blocks:
            out.print(f"no memory captured {phase.split(' (')[0]}")
            continue
        memory = table("memory", "field", "offset", "value", keys=("memory", "field"), title=f"memory {phase}")
        for block in blocks:
            for row in block_rows(block, message, captured):
                add_row(memory, row)
        print_table(memory)


def _ending_text(ending: Event | None, message) -> str:
    if ending is None:
        return "no return recorded: the recording is open or was cut off"
    if isinstance(ending, EndEvent):
        return f"never: the session ended at seq {ending.seq} ({event_detail(ending)})"
    if isinstance(ending, FaultEvent):
        return f"seq {ending.seq}: {event_detail(ending)}"
    returns = f" ({message.returns})" if message is not None and message.returns else ""
    return f"seq {ending.seq}: {hex_value(ending.result)}{returns} after {ending.duration_ns / 1000:.1f} us"
