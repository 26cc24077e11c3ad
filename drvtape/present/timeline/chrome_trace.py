"""A session in the Trace Event Format (`drvtape timeline --format chrome-trace`).

Perfetto and chrome://tracing open it: one process (the session), one track per thread that
sent messages, a complete ("X") slice per call, an instant ("i") per fault and for the end.
The format's times are microseconds; the store's are nanoseconds from the session's start.
"""

from drvtape.present.memory import CapturedBytes, memory_json
from drvtape.present.open_struct import STRUCT as MCI_OPEN_STRUCT, stored_mci_open_fields
from drvtape.present.text import end_text, fault_text, hex_value, value_text
from drvtape.schema import details
from drvtape.schema.entry_points import entry_point_of
from drvtape.schema.memory.captured import Phase
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.classes import InstanceClasses, session_class_hint
from drvtape.schema.rows import Kind

PID = 1  # one session, one process


def _us(ts_ns: int) -> float:
    return ts_ns / 1000


def _add_memory(args: dict, key: str, payload: str | None, phase: Phase, message, captured: CapturedBytes | None):
    """args[key]: the blocks a call or return captured, their struct fields named."""
    blocks = details.decode_memory(payload, phase) if captured is not None else ()
    if blocks:
        args[key] = memory_json(blocks, message, captured.arch, captured.blobs)


def _slices(rows, classes: InstanceClasses,
            captured: CapturedBytes | None) -> tuple[list[dict], list[dict], dict[int, None]]:
    """The calls' slices (with their memory at call and at return when captured gives the
    bytes), the instants, and the threads that sent messages (in order)."""
    calls: dict[int, dict] = {}
    started: dict[int, int] = {}  # call seq -> its ts in ns (durations from ns, not from rounded µs)
    instants: list[dict] = []
    threads: dict[int, None] = {}
    last = 0
    for seq, kind, ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, _dur, payload, entry_point in rows:
        last = max(last, ts)
        if kind == Kind.CALL:
            threads.setdefault(thread)
            args = {"seq": seq, "dwDriverId": hex_value(driver_id), "hdrvr": hex_value(hdrvr),
                    "lParam1": value_text(l1), "lParam2": value_text(l2)}
            if payload:
                args["payload"] = str(payload)
            opened = stored_mci_open_fields(payload, msg, entry_point_of(entry_point))
            if opened is not None:
                args[MCI_OPEN_STRUCT] = opened
            cls = classes.of_call(seq, driver_id, entry_point_of(entry_point))
            message = message_memory(cls, msg)
            _add_memory(args, "memory_in", payload, Phase.CALL, message, captured)
            started[seq] = ts
            calls[seq] = {"name": message_name(msg, cls), "cat": "call", "ph": "X",
                          "ts": _us(ts), "pid": PID, "tid": thread, "args": args, "message": message}
        elif kind == Kind.RETURN and call_seq in calls:
            calls[call_seq]["dur"] = _us(ts - started[call_seq])
            calls[call_seq]["args"]["result"] = value_text(result)
            _add_memory(calls[call_seq]["args"], "memory_out", payload, Phase.RETURN, calls[call_seq]["message"],
                        captured)
        elif kind == Kind.FAULT:
            fault = details.decode_fault(payload)
            text = fault_text(fault.code, fault.module, fault.offset)
            if call_seq in calls:
                calls[call_seq]["dur"] = _us(ts - started[call_seq])
                calls[call_seq]["args"]["fault"] = text
            name = message_name(msg, classes.of_call(seq, driver_id, entry_point_of(entry_point)))
            instants.append({"name": f"fault in {name}", "cat": "fault", "ph": "i", "s": "t",
                             "ts": _us(ts), "pid": PID, "tid": thread, "args": {"seq": seq, "fault": text}})
        elif kind == Kind.END:
            end = details.decode_end(payload)
            instants.append({"name": f"end: {end.reason.value}", "cat": "end", "ph": "i", "s": "p", "ts": _us(ts),
                             "pid": PID, "tid": thread, "args": {"seq": seq, "end": end_text(end.reason.value,
                                                                                            end.detail)}})
    for seq, call in calls.items():
        del call["message"]
        if "dur" not in call:  # never returned: the slice lasts to the session's last event
            call["dur"] = _us(last - started[seq])
            call["args"]["result"] = "no return"
    return list(calls.values()), instants, threads


def chrome_trace(header, rows, captured: CapturedBytes | None = None) -> dict:
    """The trace document of one stored session's rows (ROW_COLUMNS order, seq order)."""
    classes = InstanceClasses.from_rows(rows, session_class_hint(header.driver))
    slices, instants, threads = _slices(rows, classes, captured)
    first = next(iter(threads), 0)
    for instant in instants:
        if instant["tid"] not in threads:  # the end's writer sent no message: no track of its own
            instant["tid"] = first
    meta = [{"name": "process_name", "ph": "M", "pid": PID, "tid": first,
             "args": {"name": f"session {header.id}: {header.driver}"}}]
    meta += [{"name": "thread_name", "ph": "M", "pid": PID, "tid": t, "args": {"name": f"T{n} (0x{t:X})"}}
             for n, t in enumerate(threads)]
    meta += [{"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": t, "args": {"sort_index": n}}
             for n, t in enumerate(threads)]
    timed = sorted(slices + instants, key=lambda e: (e["ts"], e["args"]["seq"]))
    return {"traceEvents": meta + timed, "displayTimeUnit": "ns",
            "otherData": {"session": str(header.id), "driver": header.driver,
                          "started_at": header.started_at.isoformat()}}
