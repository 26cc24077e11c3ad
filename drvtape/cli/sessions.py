"""`drvtape sessions`: the recorded sessions, one per row."""

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.event_view import session_outcome, summary_json
from drvtape.cli.options import FORMAT, JSON, MSG_HELP, WIDE, output_format
from drvtape.cli.output import Format, RecordView, print_records
from drvtape.cli.selection import copyable_ids
from drvtape.cli.values import positive
from drvtape.schema.memory.selector import MessageSelector, parse_selector
from drvtape.store import SessionSummary

HEADERS = ("id", "started (UTC)", "driver", "target", "machine", "events", "calls", "threads", "outcome",
           "end reason")


def _cells(s: SessionSummary, shown_id: str) -> list[str]:
    h = s.header
    return [shown_id, h.started_at.strftime("%Y-%m-%d %H:%M:%S"), h.driver, h.target or "", h.machine,
            str(s.events), str(s.calls), str(s.threads), session_outcome(s),
            s.end_reason.value if s.end_reason else ""]


@app.command(epilog=examples(
    "drvtape sessions",
    "drvtape sessions --with-msg DRV_EXITSESSION --machine lab-01",
    "drvtape sessions --limit 5 --format csv",
))
def sessions(
    ctx: typer.Context,
    machine: str = typer.Option(None, "--machine", metavar="NAME", help="Only sessions recorded on this machine."),
    driver: str = typer.Option(None, "--driver", metavar="TEXT", help="Only drivers whose name contains TEXT."),
    with_msg: MessageSelector = typer.Option(None, "--with-msg", metavar="MSG", parser=parse_selector,
                                             help="Only sessions that received this message. " + MSG_HELP),
    limit: int = typer.Option(None, "--limit", metavar="N", parser=positive, help="Only the newest N sessions."),
    wide: bool = WIDE,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """List the recorded sessions, oldest first.

    A session's threads are the threads that sent it messages."""
    fmt = output_format(fmt, as_json)
    with open_store(ctx, read_only=True) as store:
        found = store.sessions(machine=machine, driver=driver, with_msg=with_msg, limit=limit)
        unfiltered = machine is None and driver is None and with_msg is None and limit is None
        shown = copyable_ids(store, [s.header.id for s in found], every=unfiltered,
                             wide=wide) if fmt is Format.TABLE else {}
    print_records(fmt, found, RecordView(
        headers=HEADERS, keys=("id",), document=summary_json,
        cells=lambda s: _cells(s, shown[s.header.id]), csv_cells=lambda s: _cells(s, str(s.header.id)),
    ))
