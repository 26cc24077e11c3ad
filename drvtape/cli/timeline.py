"""`drvtape timeline SESSION`: a session as one self-contained HTML sequence diagram, or as a
Trace Event Format file for Perfetto and chrome://tracing."""

import json
from enum import Enum

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import SESSION
from drvtape.cli.output import STDIO, out, write_output
from drvtape.present.memory import CapturedBytes, LoadedOnUse
from drvtape.present.timeline import timeline_data, timeline_html
from drvtape.present.timeline.chrome_trace import chrome_trace


class TimelineFormat(str, Enum):
    HTML = "html"
    CHROME_TRACE = "chrome-trace"


@app.command(epilog=examples("drvtape timeline last -o last.html", "drvtape timeline 27eb41c9 -o - > crash.html",
                             "drvtape timeline last --format chrome-trace -o last.json   # open in ui.perfetto.dev"))
def timeline(
    ctx: typer.Context,
    session: str = SESSION,
    output: str = typer.Option(..., "-o", "--output", metavar="FILE", help="The file to write; - is stdout."),
    fmt: TimelineFormat = typer.Option(TimelineFormat.HTML, "--format", metavar="html|chrome-trace",
                                       help="An HTML sequence diagram, or Trace Event Format JSON."),
) -> None:
    """Draw a session as a sequence diagram in one HTML file (no network needed to view it), or
    write it as Trace Event Format JSON (Perfetto, chrome://tracing)."""
    with open_store(ctx, read_only=True) as store:
        stored = store.resolve(session)
        rows = list(store.rows(stored.pk))
        captured = CapturedBytes(stored.header.arch or "x64", LoadedOnUse(store.blobs))  # the structs' bytes only
        if fmt is TimelineFormat.CHROME_TRACE:
            page = json.dumps(chrome_trace(stored.header, rows, captured), separators=(",", ":")) + "\n"
        else:
            page = timeline_html(timeline_data(stored.header, rows, captured))
    write_output(output, [page])
    if output != STDIO:
        out.print(f"wrote {output} ({len(page) // 1024} KiB)", markup=False)
