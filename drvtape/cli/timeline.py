"""`drvtape timeline SESSION`: a session as one self-contained HTML sequence diagram."""

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import SESSION
from drvtape.cli.output import STDIO, out, write_output
from drvtape.present.timeline import timeline_data, timeline_html


@app.command(epilog=examples("drvtape timeline last -o last.html", "drvtape timeline 27eb41c9 -o - > crash.html"))
def timeline(
    ctx: typer.Context,
    session: str = SESSION,
    output: str = typer.Option(..., "-o", "--output", metavar="FILE", help="The HTML file to write; - is stdout."),
) -> None:
    """Draw a session as a sequence diagram in one HTML file (no network needed to view it)."""
    with open_store(ctx, read_only=True) as store:
        stored = store.resolve(session)
        page = timeline_html(timeline_data(stored.header, store.rows(stored.pk)))
    write_output(output, [page])
    if output != STDIO:
        out.print(f"wrote {output} ({len(page) // 1024} KiB)", markup=False)
