"""Commands that search for the calls that matter: minimize, explore."""

from __future__ import annotations

import re

import typer

from drvtape.cli.app import QUIET, app, open_store
from drvtape.cli.render import out, print_json, progress
from drvtape.cli.run import THREADS_HELP, TIMEOUT_HELP, Threads, load_with_target
from drvtape.errors import DrvtapeError
from drvtape.schema.messages import message_name

SESSION_HELP = "a session UUID, a unique prefix of one, or 'last'"
TARGET_HELP = "sim:NAME, py:MODULE:ATTR or dll:PATH [default: the target it was recorded against]"


@app.command()
def minimize(
    ctx: typer.Context,
    session: str = typer.Argument(..., help=SESSION_HELP),
    target: str = typer.Option(None, "--target", "-t", help=TARGET_HELP),
    repeat: int = typer.Option(None, min=1, max=1000,
                               help="runs per candidate, all of which must reproduce [default: 1 for sim:, 3 else]"),
    max_replays: int = typer.Option(1000, min=1, help="stop after this many driver runs, keeping the best so far"),
    threads: Threads = typer.Option(Threads.faithful, help=THREADS_HELP),
    timeout: float = typer.Option(5.0, min=0.001, help=TIMEOUT_HELP),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Delta-debug a failing session down to the calls that still make it fail; store the result."""
    from drvtape.replay.minimize import minimize as run_minimize
    from drvtape.replay.derive import replays_as_stored, save_derived

    recording, tgt = load_with_target(ctx, session, target)
    open_store(ctx, create=True).close()
    db = ctx.find_root().obj.db
    with progress("minimizing", max_replays, quiet=quiet) as bar:
        task = bar.add_task("minimize", total=max_replays)
        result = run_minimize(recording, tgt, repeat=repeat, max_replays=max_replays, threads=threads.value,
                              timeout=timeout, on_replay=lambda n: bar.update(task, completed=n))
    result.session_id = save_derived(recording, result.calls, tgt, db, source="minimize", threads=threads.value,
                                     timeout=timeout)
    result.verified = replays_as_stored(db, result.session_id, tgt, threads=threads.value, timeout=timeout)
    if as_json:
        print_json(result.to_json())
    else:
        out.print(f"session {recording.header.id}: {recording.outcome.describe()}")
        out.print(f"before: {len(recording.calls)} calls on {recording.threads} thread(s); "
                  f"after: {len(result.calls)} calls on {len({c.thread for c in result.calls})} thread(s)")
        for c in result.calls:
            out.print(f"  seq {c.seq:>6}  thread {c.thread}  {message_name(c.msg)}")
        spent = f"{result.replays} replays, {result.candidates} candidates, {result.seconds:.2f}s"
        out.print(f"used {spent}" + (" (budget exhausted: not 1-minimal)" if result.exhausted else ""))
        out.print(f"minimized session {result.session_id} (origin {recording.header.id}); "
                  f"replay {'reproduces' if result.verified else 'does NOT reproduce'} it")
    if not result.verified:
        raise typer.Exit(1)


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """'200' -> 200 replays; '30s' -> 30 seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s?)\s*", text or "")
    if not found or (not found[2] and "." in found[1]) or float(found[1]) <= 0:
        raise DrvtapeError(f"--budget {text!r}: give a number of replays (200) or of seconds (30s)")
    return (None, float(found[1])) if found[2] else (int(found[1]), None)


@app.command()
def explore(
    ctx: typer.Context,
    session: str = typer.Argument(..., help=SESSION_HELP),
    target: str = typer.Option(None, "--target", "-t", help=TARGET_HELP),
    budget: str = typer.Option("200", help="replays (200) or seconds (30s) to spend"),
    seed: int = typer.Option(0, min=0, help="the first seed of the thread reorderings"),
    threads: Threads = typer.Option(Threads.faithful, help=THREADS_HELP),
    timeout: float = typer.Option(5.0, min=0.001, help=TIMEOUT_HELP),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Find failures the recording did not hit: shutdown at every point, and thread reorderings."""
    from drvtape.replay.explore import explore as run_explore
    from drvtape.replay.explore import save_findings

    max_replays, seconds = parse_budget(budget)
    recording, tgt = load_with_target(ctx, session, target)
    open_store(ctx, create=True).close()
    with progress("exploring", max_replays, quiet=quiet) as bar:
        task = bar.add_task("explore", total=max_replays)
        result = run_explore(recording, tgt, max_replays=max_replays, seconds=seconds, seed=seed,
                             threads=threads.value, timeout=timeout,
                             on_replay=lambda n, _found: bar.update(task, completed=n))
    save_findings(result, tgt, ctx.find_root().obj.db, threads=threads.value, timeout=timeout)
    if as_json:
        print_json(result.to_json())
        return
    out.print(f"session {recording.header.id}: {len(recording.calls)} calls on {recording.threads} thread(s); "
              f"recorded: {recording.outcome.describe()}")
    out.print(f"{result.replays} replays in {result.seconds:.2f}s; the recorded failure came back "
              f"{result.recorded_hit} time(s)")
    if not result.findings:
        out.print("no other failure found")
    for finding in result.findings:
        check = "replay reproduces it" if finding.verified else "replay does NOT reproduce it"
        out.print(f"  {finding.describe()}\n    saved as {finding.session_id} ({check})", markup=False)
