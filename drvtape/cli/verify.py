"""`drvtape verify`: sessions checked against their hash chains."""

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import ALL, FORMAT, JSON, SESSIONS, WIDE, output_format
from drvtape.cli.output import Format, RecordView, out, print_json, print_records
from drvtape.cli.selection import chosen_sessions, copyable_ids


def _verdict_json(session_id: str, problems: list[tuple[int, str]]) -> dict:
    return {"session": session_id, "intact": not problems, "seq": problems[0][0] if problems else None,
            "problem": problems[0][1] if problems else None}


@app.command(epilog=examples("drvtape verify --all", "drvtape verify last 27eb41c9 --json"))
def verify(
    ctx: typer.Context,
    sessions: list[str] = SESSIONS,
    every: bool = ALL,
    wide: bool = WIDE,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Check sessions against their hash chains; exit 1 when an event was altered, removed, inserted or moved."""
    fmt = output_format(fmt, as_json)
    with open_store(ctx, read_only=True) as store:
        chosen = chosen_sessions(store, sessions, every)
        results = [(str(s.header.id), store.verify(s.pk)) for s in chosen]
        shown = {str(i): text for i, text in
                 copyable_ids(store, [s.header.id for s in chosen], every=every, wide=wide).items()}
        removed = store.removed_sessions() if every else 0
    bad = [(session_id, problems) for session_id, problems in results if problems]
    # a session deleted whole leaves the count of stored sessions behind
    gone = [{"session": None, "seq": None, "problem": f"{removed} session(s) stored in this database are gone: "
             "removed"}] if removed else []
    if fmt is Format.JSON:
        print_json({"sessions": len(results), "intact": len(results) - len(bad),
                    "damaged": [{"session": session_id, "seq": problems[0][0], "problem": problems[0][1]}
                                for session_id, problems in bad] + gone})
    else:
        print_records(fmt, results, RecordView(
            headers=("session", "verdict"), keys=("session",), document=lambda r: _verdict_json(*r),
            cells=lambda r: [shown[r[0]], r[1][0][1] if r[1] else "intact"],
            csv_cells=lambda r: [r[0], r[1][0][1] if r[1] else "intact"],
        ))
        if fmt is Format.TABLE:
            out.print(f"{len(results) - len(bad)} of {len(results)} session(s) intact")
            for entry in gone:
                out.print(entry["problem"], markup=False)
    if bad or gone:
        raise typer.Exit(1)
