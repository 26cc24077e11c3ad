"""`drvtape lint`: sessions checked against the DRV_* protocol (drvtape.analysis.lint)."""

import uuid

import typer

from drvtape.analysis.lint import RULES, Finding, has_errors, lint_rows, select_rules
from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import ALL, FORMAT, JSON, SESSIONS, WIDE, output_format
from drvtape.cli.output import Format, RecordView, out, print_json, print_records
from drvtape.cli.selection import chosen_sessions, copyable_ids
from drvtape.schema.events import SessionHeader
from drvtape.schema.memory.classes import session_class_hint

RULES_VIEW = RecordView(
    headers=("rule", "severity", "why"), keys=("rule",),
    document=lambda r: {"rule": r.id, "severity": r.severity, "why": r.why},
    cells=lambda r: [r.id, r.severity, r.why],
)


def _finding_json(f: Finding) -> dict:
    return {"rule": f.rule.id, "severity": f.rule.severity, "seq": f.seq, "related": list(f.related),
            "detail": f.detail, "why": f.rule.why}


def _findings_view(shown: dict[uuid.UUID, str]) -> RecordView:
    """One record per finding: (session header, finding)."""
    return RecordView(
        headers=("session", "seq", "severity", "rule", "detail"), keys=("session", "rule"),
        document=lambda hf: {"session": str(hf[0].id), **_finding_json(hf[1])},
        cells=lambda hf: [shown[hf[0].id], str(hf[1].seq), hf[1].rule.severity, hf[1].rule.id, hf[1].detail],
        csv_cells=lambda hf: [str(hf[0].id), hf[1].seq, hf[1].rule.severity, hf[1].rule.id, hf[1].detail],
    )


def _lint_document(results: list[tuple[SessionHeader, list[Finding]]], rules) -> dict:
    return {"linted": len(results), "rules": [r.id for r in rules], "sessions": [
        {"session": str(h.id), "driver": h.driver, "target": h.target,
         "findings": [_finding_json(f) for f in found]} for h, found in results if found]}


@app.command(epilog=examples(
    "drvtape lint last",
    "drvtape lint --all --rule exitsession-with-open-instance",
    "drvtape lint --all --format csv",
    "drvtape lint --rules",
))
def lint(
    ctx: typer.Context,
    sessions: list[str] = SESSIONS,
    every: bool = ALL,
    rule: list[str] = typer.Option(None, "--rule", metavar="ID", help="Only this rule (repeatable)."),
    list_rules: bool = typer.Option(False, "--rules", help="List the rules and exit."),
    wide: bool = WIDE,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Check sessions against the DRV_* protocol; exit 1 when an error-level rule fires."""
    fmt = output_format(fmt, as_json)
    if list_rules:
        print_records(fmt, RULES, RULES_VIEW)
        return
    rules = select_rules(rule)
    with open_store(ctx, read_only=True) as store:
        chosen = chosen_sessions(store, sessions, every)
        results = [(s.header, lint_rows(store.rows(s.pk), rules, session_class_hint(s.header.driver))) for s in chosen]
        shown = copyable_ids(store, [h.id for h, _ in results], every=every, wide=wide)
    if fmt is Format.JSON:
        print_json(_lint_document(results, rules))
    else:
        print_records(fmt, [(h, f) for h, found in results for f in found], _findings_view(shown))
        if fmt is Format.TABLE:
            fired = sum(1 for _, found in results if found)
            out.print(f"{fired} of {len(results)} session(s) with findings")
    if any(has_errors(found) for _, found in results):
        raise typer.Exit(1)
