"""How a tape's session ended (drvtape.recorder.ingest's docstring says when it is which),
from what its events left: the calls that never returned, a fault, its END or DETACH record."""

from __future__ import annotations

from typing import NamedTuple

from drvtape.formats.tape import END_PROCESS_EXIT, REC_DETACH, EndRecord, TapeProblem
from drvtape.present.text import exception_code, fault_place
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import EndReason, FaultEvent
from drvtape.schema.messages import message_name


class OpenCall(NamedTuple):
    """A call event of a tape, kept while it has not returned."""

    seq: int  # the event's
    thread: int
    msg: int
    driver_id: int
    hdrvr: int
    depth: int
    qpc: int
    entry_point: EntryPoint


class Ending(NamedTuple):
    """The end event's fields but its seq."""

    ts_ns: int
    thread: int
    reason: EndReason
    call_seq: int | None
    detail: str


class Left(NamedTuple):
    """What a session's events left for its end."""

    outstanding: list[OpenCall]  # the calls that never returned, in file order
    faulted: tuple[OpenCall, FaultEvent] | None
    after_detach: int | None  # calls after the DETACH record, when there is one
    last_ts: int  # of the last event (0: none)
    last_thread: int
    end_ts: int | None  # the END or DETACH record's time (None: none, or a damaged clock)


def ending(left: Left, end: EndRecord | None, torn: TapeProblem | None, unfinished: str) -> Ending:
    """How the session ended; end: its END or DETACH record."""
    outstanding = left.outstanding
    inner = max(outstanding, key=lambda ev: (ev.depth, ev.seq)) if outstanding else None
    waiting = (f"; {len(outstanding)} call(s) never returned, the innermost seq {inner.seq} "
               f"({message_name(inner.msg)})") if inner else ""
    if left.faulted is not None:
        call, fault = left.faulted
        exited = end is not None and (end.type == REC_DETACH or end.reason == END_PROCESS_EXIT)
        return Ending(left.last_ts, call.thread, EndReason.PROCESS_EXIT if exited else EndReason.CRASH, call.seq,
                      f"exception {exception_code(fault.code)} at {fault_place(fault.module, fault.offset)} "
                      f"in call seq {call.seq} "
                      f"({message_name(call.msg)}), which never returned" + waiting)
    if end is not None:
        exited = end.type == REC_DETACH or end.reason == END_PROCESS_EXIT
        text = "the process exited with the driver loaded" if exited else "the tap was unloaded"
        if left.after_detach is not None:
            text += f"; {left.after_detach} message(s) came after the tap's process-exit detach"
        ended_at = left.last_ts if left.end_ts is None else max(left.last_ts, left.end_ts)
        return Ending(ended_at, end.thread, EndReason.PROCESS_EXIT if exited else EndReason.CLOSED,
                      inner.seq if inner else None, text + waiting)
    if torn is not None:
        return Ending(left.last_ts, left.last_thread, EndReason.KILLED, inner.seq if inner else None,
                      f"torn record at offset {torn.offset}: the process died while writing it" + waiting)
    if inner is not None and unfinished == "hang":
        hung = min(outstanding, key=lambda ev: (ev.depth, ev.seq))
        return Ending(left.last_ts, hung.thread, EndReason.HANG, hung.seq,
                      f"call seq {hung.seq} ({message_name(hung.msg)}) never returned and the tape has "
                      "no end record: taken as a hang (ingest --unfinished hang)" + waiting)
    if inner is not None:
        return Ending(left.last_ts, inner.thread, EndReason.UNKNOWN, inner.seq,
                      f"call seq {inner.seq} ({message_name(inner.msg)}) never returned and the tape has "
                      "no end record: the process died inside it (a crash or a kill), or is still running")
    return Ending(left.last_ts, left.last_thread, EndReason.UNKNOWN, None,
                  "the tape has no end record: the process died between messages, "
                  "or was still running when the tape was read")
