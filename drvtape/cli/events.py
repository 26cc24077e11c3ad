"""`drvtape events SESSION`: a session's events in seq order, filtered."""

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.event_view import CapturedBytes, blob_keys, events_view, session_classes
from drvtape.cli.options import FORMAT, JSON, MSG_HELP, SESSION, output_format
from drvtape.cli.output import Format, print_records
from drvtape.cli.values import event_kind, lresult, offset_ns, positive, thread_id, thread_names
from drvtape.schema.memory.selector import MessageSelector, parse_selector
from drvtape.schema.rows import Kind
from drvtape.store import EventFilter

TIME_HELP = ("From this time: a duration after the session start with its unit (1.5s, 250ms, 40us, 100ns; "
             "a bare integer is ns), or an ISO-8601 UTC time.")


@app.command(epilog=examples(
    "drvtape events last --msg DRV_EXITSESSION --msg DRV_CLOSE",
    "drvtape events last --kind fault --kind end --format json",
    "drvtape events 27eb41c9 --thread T1 --since 3ms --until 1.5s --format csv",
))
def events(
    ctx: typer.Context,
    session: str = SESSION,
    msg: list[MessageSelector] = typer.Option(None, "--msg", metavar="MSG", parser=parse_selector,
                                              help=MSG_HELP + " Repeatable."),
    kind: list[Kind] = typer.Option(None, "--kind", metavar="KIND", parser=event_kind,
                                    help="call, return, fault, mark or end (repeatable)."),
    thread: list[str] = typer.Option(None, "--thread", metavar="THREAD",
                                     help="An OS thread id, or T<n> as `show` numbers them (repeatable)."),
    from_seq: int = typer.Option(None, "--from-seq", metavar="SEQ", parser=positive, help="From this seq on."),
    to_seq: int = typer.Option(None, "--to-seq", metavar="SEQ", parser=positive, help="Up to this seq."),
    since: str = typer.Option(None, "--since", metavar="TIME", help=TIME_HELP),
    until: str = typer.Option(None, "--until", metavar="TIME", help="Up to this time (as --since)."),
    result: list[int] = typer.Option(None, "--result", metavar="LRESULT", parser=lresult,
                                     help="Return events with this result (repeatable)."),
    limit: int = typer.Option(None, "--limit", metavar="N", parser=positive, help="At most N events."),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """A session's events in seq order, filtered.

    The table's t is milliseconds from the session start; --format csv gives exact decimal values."""
    fmt = output_format(fmt, as_json)
    with open_store(ctx, read_only=True) as store, store.snapshot():
        stored = store.resolve(session)
        threads = thread_names(store.threads(stored.pk))
        started = stored.header.started_at
        flt = EventFilter(
            msgs=tuple(msg or ()), kinds=tuple(kind or ()),
            threads=tuple(thread_id(t, threads) for t in thread or ()),
            from_seq=from_seq, to_seq=to_seq,
            from_ts_ns=None if since is None else offset_ns(since, started),
            to_ts_ns=None if until is None else offset_ns(until, started),
            results=tuple(result or ()), limit=limit,
        )
        found = store.events(stored.pk, flt)
        classes = session_classes(store, stored)
        captured = None
        if fmt in (Format.JSON, Format.JSONL):
            captured = CapturedBytes(stored.header.arch or "x64", store.blobs(blob_keys(found)))
    print_records(fmt, found, events_view(threads, classes, captured))
