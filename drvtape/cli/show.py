"""`drvtape show SESSION`: one session's header, calls per message, threads and shutdown
events; with --seq or --msg, calls with their lParams, returns and memory by struct field."""

import typer
from rich.table import Table

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.call_view import FIRST_BYTES, call_at, call_json, calls_of, print_call
from drvtape.cli.event_view import (
    CapturedBytes, blob_keys, event_detail, event_json, events_view, session_classes, summary_json,
)
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, SESSION, output_format
from drvtape.cli.output import Format, add_row, out, print_json, print_records, print_table, table
from drvtape.cli.values import positive, thread_names
from drvtape.errors import DrvtapeError
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.memory.catalog import message_name, session_message_name
from drvtape.schema.memory.classes import ENTRY_POINT_CLASSES
from drvtape.schema.memory.selector import MessageSelector, parse_selector, selected_name
from drvtape.schema.messages import DRV_EXITSESSION
from drvtape.schema.rows import Kind
from drvtape.store import EventFilter
from drvtape.present.text import hex_value

@app.command(epilog=examples("drvtape show last", "drvtape show 27eb41c9 --json", "drvtape show last --seq 57",
                             "drvtape show last --msg ACMDM_STREAM_CONVERT --json"))
def show(
    ctx: typer.Context,
    session: str = SESSION,
    seq: int = typer.Option(None, "--seq", metavar="SEQ", parser=positive,
                            help="One call (or the call a return or fault ends): its lParams, its return "
                                 "and the memory captured at call and at return, field by field."),
    msg: MessageSelector = typer.Option(None, "--msg", metavar="MSG", parser=parse_selector,
                                        help="Every call of this message (a name of any class or entry point, "
                                             "or DriverProc's number, as events --msg takes it), as --seq shows one."),
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """One session: its header, calls per message, threads, outcome and DRV_EXITSESSION events;
    or, with --seq/--msg, calls and the memory behind them."""
    fmt = output_format(fmt, as_json)
    if seq is not None and msg is not None:
        raise DrvtapeError("give one of --seq and --msg")
    if seq is None and msg is None:
        show_session(ctx, session, fmt)
    else:
        show_calls(ctx, session, fmt, seq, msg)


def show_calls(ctx: typer.Context, session: str, fmt: Format, seq: int | None, msg: MessageSelector | None) -> None:
    """The calls asked for, each with the bytes of its own blocks only (read call by call: a
    session's frames are never all in memory at once)."""
    with open_store(ctx, read_only=True) as store, store.snapshot():
        stored = store.resolve(session)
        end = next(iter(store.events(stored.pk, EventFilter(kinds=(Kind.END,)))), None)
        classes = session_classes(store, stored)
        if seq is not None:
            shown = [call_at(store, stored, seq, end)]
        else:
            shown = calls_of(store, stored, msg, end)
            if not shown:
                raise DrvtapeError(f"session {stored.header.id} has no call of {selected_name(msg)} (0x{msg.code:X})")
        threads = thread_names(store.threads(stored.pk))
        arch = stored.header.arch or "x64"
        captured = (CapturedBytes(arch, store.blobs(blob_keys([one.call, one.ending])), FIRST_BYTES) for one in shown)
        if fmt is Format.JSON:
            docs = [call_json(one, classes, bytes_of) for one, bytes_of in zip(shown, captured)]
            print_json({"session": str(stored.header.id), **(docs[0] if seq is not None else {"calls": docs})})
            return
        for n, (one, bytes_of) in enumerate(zip(shown, captured)):
            if n:
                out.print()
            print_call(one, threads, classes, bytes_of)


def show_session(ctx: typer.Context, session: str, fmt: Format) -> None:
    with open_store(ctx, read_only=True) as store, store.snapshot():
        stored = store.resolve(session)
        summary = store.summary(stored.pk)
        threads = thread_names(store.threads(stored.pk))
        instances = session_classes(store, stored)
        classes = instances.classes()
        per_msg = {session_message_name(code, classes): count for code, count in store.call_counts(stored.pk).items()}
        per_msg.update({message_name(code, ENTRY_POINT_CLASSES[entry_point]): count
                        for (entry_point, code), count in store.device_call_counts(stored.pk).items()})
        end = next(iter(store.events(stored.pk, EventFilter(kinds=(Kind.END,)))), None)
        exits = [ev for ev in store.events(stored.pk, EventFilter(msgs=(DRV_EXITSESSION,)))
                 if ev.entry_point is EntryPoint.DRIVER_PROC]  # MODM_SETVOLUME has its number
        captured = CapturedBytes(stored.header.arch or "x64", store.blobs(blob_keys(exits)))
    if fmt is Format.JSON:
        print_json({
            "session": summary_json(summary),
            "calls_by_msg": per_msg,
            "threads": [{"name": name, "thread": thread} for thread, name in threads.items()],
            "end": event_json(end, instances) if end else None,
            "exitsession": [event_json(ev, instances, captured) for ev in exits],
        })
        return
    grid = Table.grid(padding=(0, 2))
    for key, value in stored.header.model_dump(mode="json").items():
        add_row(grid, (key, "" if value is None else str(value)))
    add_row(grid, ("events", f"{summary.events} ({summary.calls} calls)"))
    add_row(grid, ("threads", ", ".join(f"{name} = {thread} ({hex_value(thread)})" for thread, name in threads.items())))
    add_row(grid, ("outcome", summary.outcome))
    add_row(grid, ("end", event_detail(end) if end else "none: the recording is open or was cut off"))
    print_table(grid)
    per_msg_table = table("msg", "calls", keys=("msg",))
    for name, count in per_msg.items():
        add_row(per_msg_table, (name, str(count)))
    print_table(per_msg_table)
    if exits:
        out.print("DRV_EXITSESSION events:")
        print_records(Format.TABLE, exits, events_view(threads, instances))
    else:
        out.print("no DRV_EXITSESSION events")

