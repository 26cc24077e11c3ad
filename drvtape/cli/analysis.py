"""`drvtape state`, `lint` and `diff`: the analyses of drvtape.analysis, rendered."""

import typer
from rich.table import Table

from drvtape.analysis.diff import Diff, diff_recordings
from drvtape.analysis.lint import RULES, Finding, has_errors, lint_rows, select_rules
from drvtape.analysis.state import DriverState, fold
from drvtape.cli.app import app, open_store
from drvtape.cli.query import _add_row, _positive, _print_table, _thread_names
from drvtape.cli.render import hexval, out, print_json
from drvtape.errors import DrvtapeError
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.messages import message_name

_SESSION = typer.Argument(..., metavar="SESSION", help="UUID, unique prefix, or 'last'.")
_JSON = typer.Option(False, "--json", help="Print one JSON document.")


# ---- state -----------------------------------------------------------------------------------


def _state_json(state: DriverState, names: dict[int, str]) -> dict:
    return {
        "at": state.at, "loaded": state.loaded, "enabled": state.enabled, "freed": state.freed,
        "instances": [{"driver_id": i.driver_id, "hdrvr": i.hdrvr, "opened_seq": i.seq, "thread": names[i.thread],
                       "thread_id": i.thread} for i in state.instances],
        "in_flight": [{"seq": c.seq, "msg": c.msg, "msg_name": message_name(c.msg), "thread": names[c.thread],
                       "thread_id": c.thread, "depth": c.depth, "driver_id": c.driver_id, "hdrvr": c.hdrvr}
                      for c in state.in_flight],
        "last": [{"thread": names[t], "thread_id": t, "seq": m.seq, "msg": m.msg, "msg_name": message_name(m.msg),
                  "status": m.status, "result": m.result} for t, m in state.last.items()],
    }


def _print_state(state: DriverState, names: dict[int, str]) -> None:
    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    out.print(f"at seq {state.at}: loaded {yes(state.loaded)}, enabled {yes(state.enabled)}, "
              f"freed {yes(state.freed)}")
    instances = Table("dwDriverId", "hdrvr", "opened at seq", "thread", title="open instances")
    for i in state.instances:
        _add_row(instances, (hexval(i.driver_id), hexval(i.hdrvr), str(i.seq), names[i.thread]))
    calls = Table("seq", "msg", "thread", "depth", "driver_id", "hdrvr", title="calls in flight")
    for c in state.in_flight:
        _add_row(calls, (str(c.seq), message_name(c.msg), names[c.thread], str(c.depth), hexval(c.driver_id),
                         hexval(c.hdrvr)))
    last = Table("thread", "seq", "msg", "status", "result", title="last message per thread")
    for thread, m in state.last.items():
        _add_row(last, (names[thread], str(m.seq), message_name(m.msg), m.status, hexval(m.result)))
    for table in (instances, calls, last):
        _print_table(table)


@app.command()
def state(
    ctx: typer.Context,
    session: str = _SESSION,
    at: int = typer.Option(None, "--at", metavar="SEQ", parser=_positive,
                           help="The state after this seq [default: the end of the session]."),
    as_json: bool = _JSON,
) -> None:
    """The driver's state at a seq: loaded/enabled, open instances, calls in flight, last message per thread."""
    with open_store(ctx) as store:
        stored = store.resolve(session)
        rows = store.rows(stored.pk)
        names = _thread_names(store.threads(stored.pk))
    if at is not None and (not rows or at > rows[-1].seq):
        raise DrvtapeError(f"--at {at}: session {stored.header.id} has {len(rows)} events")
    found = fold(rows, at)
    if as_json:
        print_json({"session": str(stored.header.id), **_state_json(found, names)})
    else:
        _print_state(found, names)


# ---- lint ------------------------------------------------------------------------------------


def _finding_json(f: Finding) -> dict:
    return {"rule": f.rule.id, "severity": f.rule.severity, "seq": f.seq, "related": list(f.related),
            "detail": f.detail, "why": f.rule.why}


def _print_rules() -> None:
    table = Table("rule", "severity", "why")
    for rule in RULES:
        _add_row(table, (rule.id, rule.severity, rule.why))
    _print_table(table)


@app.command()
def lint(
    ctx: typer.Context,
    sessions: list[str] = typer.Argument(None, metavar="[SESSION]...", help="UUIDs, unique prefixes, or 'last'."),
    all_sessions: bool = typer.Option(False, "--all", help="Every session in the database."),
    rule: list[str] = typer.Option(None, "--rule", metavar="ID", help="Only this rule (repeatable)."),
    list_rules: bool = typer.Option(False, "--rules", help="List the rules and exit."),
    as_json: bool = _JSON,
) -> None:
    """Check sessions against the DRV_* protocol; exit 1 when an error-level rule fires."""
    if list_rules:
        if as_json:
            print_json([{"rule": r.id, "severity": r.severity, "why": r.why} for r in RULES])
        else:
            _print_rules()
        return
    if bool(sessions) == all_sessions:
        raise DrvtapeError("give SESSION... or --all (one of them)")
    rules = select_rules(rule)
    with open_store(ctx) as store:
        stored = ([store.resolve(s) for s in sessions] if sessions
                  else [store.resolve(str(s.header.id)) for s in store.sessions()])
        results = [(s.header, lint_rows(store.rows(s.pk), rules)) for s in stored]
    fired = [(h, found) for h, found in results if found]
    if as_json:
        print_json({"linted": len(results), "rules": [r.id for r in rules], "sessions": [
            {"session": str(h.id), "driver": h.driver, "target": h.target,
             "findings": [_finding_json(f) for f in found]} for h, found in fired]})
    else:
        table = Table("session", "seq", "severity", "rule", "detail")
        for h, found in fired:
            for f in found:
                _add_row(table, (str(h.id)[:8], str(f.seq), f.rule.severity, f.rule.id, f.detail))
        _print_table(table)
        out.print(f"{len(fired)} of {len(results)} session(s) with findings")
    if any(has_errors(found) for _, found in fired):
        raise typer.Exit(1)


# ---- diff ------------------------------------------------------------------------------------


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
    out.print(f"A {a.id} ({a.target or a.driver}): {d.outcome_a.describe()}")
    out.print(f"B {b.id} ({b.target or b.driver}): {d.outcome_b.describe()}")
    if d.equal:
        out.print(f"the sessions match: {d.matching} calls")
        return
    first = d.first
    out.print(f"first divergence ({first.what}) on T{first.lane}: A seq {first.seq_a or '-'}, "
              f"B seq {first.seq_b or '-'}")
    out.print(f"  A: {first.a or '(nothing)'}")
    out.print(f"  B: {first.b or '(nothing)'}")
    out.print(f"{d.matching} matching, {d.differing} differing, {d.count('only-in-a')} only in A, "
              f"{d.count('only-in-b')} only in B")
    table = Table("what", "lane", "A seq", "B seq", "A", "B")
    for x in d.divergences:
        _add_row(table, (x.what, f"T{x.lane}", str(x.seq_a or ""), str(x.seq_b or ""), x.a or "", x.b or ""))
    _print_table(table)


@app.command()
def diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., metavar="A", help="A session: UUID, unique prefix, or 'last'."),
    b: str = typer.Argument(..., metavar="B", help="The session to compare it with."),
    as_json: bool = _JSON,
) -> None:
    """Align two sessions call by call (ids remapped); exit 0 when they match, 1 when they differ."""
    with open_store(ctx) as store:
        sa, sb = store.resolve(a), store.resolve(b)
        result = diff_recordings(recording_from_rows(sa.header, store.rows(sa.pk)),
                                 recording_from_rows(sb.header, store.rows(sb.pk)))
    if as_json:
        print_json(_diff_json(result, sa.header, sb.header))
    else:
        _print_diff(result, sa.header, sb.header)
    if not result.equal:
        raise typer.Exit(1)
