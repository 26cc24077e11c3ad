"""`drvtape explore SESSION`: failures the recording did not hit, each stored as a session."""

import re
from decimal import Decimal

import typer

from drvtape.cli.app import app, db_of, examples, open_store
from drvtape.cli.driver_options import REPLAY_THREADS, TARGET_FOR_REPLAY, TIMEOUT, Threads
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, QUIET, SESSION, output_format
from drvtape.cli.output import Format, out, print_json, progress
from drvtape.cli.recorded import load_with_target, stored_recording
from drvtape.errors import DrvtapeError
from drvtape.present.text import outcome_text
from drvtape.replay.explore import ExploreResult, explore as run_explore, save_findings


MAX_BUDGET_REPLAYS = 10**9
MAX_BUDGET_SECONDS = 10**7  # about 116 days


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """'200' -> 200 replays; '30s' -> 30 seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s?)\s*", text or "")
    if not found or (not found[2] and "." in found[1]) or float(found[1]) <= 0:
        raise DrvtapeError(f"--budget {text!r}: give a number of replays (200) or of seconds (30s)")
    # compared as Decimal: int() refuses numbers of more than 4,300 digits
    limit = MAX_BUDGET_SECONDS if found[2] else MAX_BUDGET_REPLAYS
    if Decimal(found[1]) > limit:
        raise DrvtapeError(f"--budget {found[1][:20]}{'...' if len(found[1]) > 20 else ''}{found[2]} is too large: "
                           f"at most {limit}{found[2]}")
    return (None, float(found[1])) if found[2] else (int(found[1]), None)


def _print_result(ctx: typer.Context, result: ExploreResult) -> None:
    recording = result.recording
    out.print(f"session {recording.header.id}: {len(recording.calls)} calls on {recording.threads} thread(s); "
              f"recorded: {outcome_text(recording.outcome)}", markup=False)
    out.print(f"{result.replays} replays in {result.seconds:.2f}s; the recorded failure came back "
              f"{result.recorded_hit} time(s)")
    if not result.findings:
        out.print("no other failure found")
    for finding in result.findings:
        check = "replay reproduces it" if finding.verified else "replay does NOT reproduce it"
        stored = stored_recording(ctx, finding.session_id)
        out.print(f"  {outcome_text(stored.outcome)}: saved as {finding.session_id} ({check})\n"
                  f"    found as {finding.describe()} (seqs of the explored run)", markup=False)


@app.command(epilog=examples(
    "drvtape explore last --target recorded",
    "drvtape explore 27eb41c9 --budget 30s --seed 7 --json",
))
def explore(
    ctx: typer.Context,
    session: str = SESSION,
    target: str = TARGET_FOR_REPLAY,
    budget: str = typer.Option("200", metavar="N|Ns", help="Replays (200) or seconds (30s) to spend."),
    seed: int = typer.Option(0, min=0, metavar="N", help="The first seed of the thread reorderings."),
    threads: Threads = REPLAY_THREADS,
    timeout: float = TIMEOUT,
    quiet: bool = QUIET,
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """Find failures the recording did not hit: shutdown at every point, and thread reorderings."""
    fmt = output_format(fmt, as_json)
    max_replays, seconds = parse_budget(budget)
    recording, tgt = load_with_target(ctx, session, target)
    open_store(ctx, create=True).close()
    with progress("exploring", max_replays, quiet=quiet) as bar:
        task = bar.add_task("explore", total=max_replays)
        result = run_explore(recording, tgt, max_replays=max_replays, seconds=seconds, seed=seed,
                             threads=threads.value, timeout=timeout,
                             on_replay=lambda n, _found: bar.update(task, completed=n))
    save_findings(result, tgt, db_of(ctx), threads=threads.value, timeout=timeout)
    if fmt is Format.JSON:
        print_json(result.to_json())
    else:
        _print_result(ctx, result)
