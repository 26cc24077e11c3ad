"""timeline: a session as one self-contained HTML sequence diagram."""

from pathlib import Path

import typer

from drvtape.cli.app import app, open_store
from drvtape.cli.render import out
from drvtape.errors import DrvtapeError
from drvtape.present.timeline import timeline_data, timeline_html


@app.command()
def timeline(
    ctx: typer.Context,
    session: str = typer.Argument(..., metavar="SESSION", help="UUID, unique prefix, or 'last'."),
    output: Path = typer.Option(..., "-o", "--output", help="the HTML file to write"),
) -> None:
    """Draw a session as a sequence diagram in one HTML file (no network needed to view it)."""
    with open_store(ctx) as store:
        stored = store.resolve(session)
        page = timeline_html(timeline_data(stored.header, store.rows(stored.pk)))
    try:
        partial = output.with_name(output.name + ".partial")
        partial.write_text(page, encoding="utf-8")
        partial.replace(output)
    except OSError as exc:
        raise DrvtapeError(f"cannot write {output}: {exc.strerror or exc}") from None
    out.print(f"wrote {output} ({len(page) // 1024} KiB)", markup=False)
