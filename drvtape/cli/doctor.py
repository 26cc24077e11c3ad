"""`drvtape doctor`: which of the tools drvtape uses are here, and what to install for the others."""

import typer

from drvtape.cli.app import app, examples
from drvtape.cli.options import FORMAT, JSON, output_format
from drvtape.cli.output import Format, RecordView, print_records
from drvtape.dllhost.tools import Tool, tools


def _document(tool: Tool) -> dict:
    return {"tool": tool.name, "present": tool.present, "path": tool.path,
            "install": None if tool.present else tool.install}


@app.command(epilog=examples("drvtape doctor", "drvtape doctor --json"))
def doctor(fmt: Format = FORMAT, as_json: bool = JSON) -> None:
    """Say which of Wine 64-bit, Wine 32-bit, mingw-w64 x64 and x86, ffmpeg and PostgreSQL are present,
    and what to install for each missing one; exit 1 when one is missing."""
    found = tools()
    print_records(output_format(fmt, as_json), found, RecordView(
        headers=("tool", "found", "to install"), keys=("tool",), document=_document,
        cells=lambda t: [t.name, t.path or "missing", "" if t.present else t.install],
    ))
    if not all(t.present for t in found):
        raise typer.Exit(1)
