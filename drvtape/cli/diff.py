"""`drvtape diff A B`: two sessions aligned call by call (drvtape.analysis.diff)."""

import typer

from drvtape.analysis.diff import Diff, diff_recordings
from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, output_format
from drvtape.cli.output import Format, add_row, out, print_json, print_table, table
from drvtape.present.text import outcome_text
from drvtape.schema.recording import recording_from_rows


def _diff_json(d: Diff, a, b) -> dict:
    return {
        "a": str(a.id), "b": str(b.id), "equal": d.equal,
        "first": None if d.first is None else vars(d.first),
        "matching": d.matching, "differing": d.differing,
        "only_in_a": d.count("only-in-a"), "only_in_b": d.count("only-in-b"),
        "outcome_a": d.outcome_a.to_json(), "outcome_b": d.outcome_b.to_json(),
        "divergences": [vars(x) for x in d.divergences],
    }


def _print_diff(d: Diff, a, b) -> None:
    out.print(f"A {a.id} ({a.target or a.driver}): {outcome_text(d.outcome_a)}", markup=False)
    out.print(f"B {b.id} ({b.target or b.driver}): {outcome_text(d.outcome_b)}", markup=False)
    if d.equal:
        out.print(f"the sessions match: {d.matching} calls")
        return
    first = d.first
    out.print(f"first divergence ({first.what}) on T{first.lane}: A seq {first.seq_a or '-'}, "
              f"B seq {first.seq_b or '-'}", markup=False)
    out.print(f"  A: {first.a or '(nothing)'}", markup=False)
    out.print(f"  B: {first.b or '(nothing)'}", markup=False)
    out.print(f"{d.matching} matching, {d.differing} differing, {d.count('only-in-a')} only in A, "
              f"{d.count('only-in-b')} only in B")
    tbl = table("what", "lane", "A seq", "B seq", "A", "B")
    for x in d.divergences:
        add_row(tbl, (x.what, f"T{x.lane}", str(x.seq_a or ""), str(x.seq_b or ""), x.a or "", x.b or ""))
    print_table(tbl)


@app.command(epilog=examples("drvtape diff 27eb41c9 last", "drvtape diff 27eb41c9 last --json"))
def diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., metavar="A", help="A session: its UUID, a unique prefix of it, or 'last'.",
                            show_default=False),
    b: str = typer.Argument(..., metavar="B", help="The session to compare it with.", show_default=False),
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """Align two sessions call by call (ids remapped); exit 0 when they match, 1 when they differ."""
    fmt = output_format(fmt, as_json)
    with open_store(ctx, read_only=True) as store:
        sa, sb = store.resolve(a), store.resolve(b)
        result = diff_recordings(recording_from_rows(sa.header, store.rows(sa.pk)),
                                 recording_from_rows(sb.header, store.rows(sb.pk)))
    if fmt is Format.JSON:
        print_json(_diff_json(result, sa.header, sb.header))
    else:
        _print_diff(result, sa.header, sb.header)
    if not result.equal:
        raise typer.Exit(1)
