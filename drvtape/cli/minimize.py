"""`drvtape minimize SESSION`: cut a failing session down to the calls that still make it fail."""

from collections import defaultdict

import typer

from drvtape.cli.app import app, db_of, examples, open_store
from drvtape.cli.driver_options import REPLAY_THREADS, TARGET_FOR_REPLAY, TIMEOUT, Threads
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, QUIET, SESSION, output_format
from drvtape.cli.output import Format, out, print_json, progress
from drvtape.cli.recorded import load_with_target, stored_recording
from drvtape.present.text import outcome_text
from drvtape.replay.derive import replays_as_stored, save_derived
from drvtape.replay.minimize import MinimizeResult, minimize as run_minimize
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.memory.classes import call_classes, session_class_hint
from drvtape.schema.recording import RecordedCall


def origin_seqs(stored: list[RecordedCall], origin: list[RecordedCall]) -> list[int | None]:
    """For each call of the stored session, the seq of the origin's call it replays: the n-th
    call of a message stands for the n-th of that message among the calls that were kept."""
    kept: dict[int, list[int]] = defaultdict(list)
    for call in origin:
        kept[call.msg].append(call.seq)
    taken: dict[int, int] = defaultdict(int)
    seqs = []
    for call in stored:
        n = taken[call.msg]
        taken[call.msg] += 1
        seqs.append(kept[call.msg][n] if n < len(kept[call.msg]) else None)
    return seqs


def _print_result(result: MinimizeResult, stored: list[RecordedCall]) -> None:
    recording = result.original
    out.print(f"session {recording.header.id}: {outcome_text(recording.outcome)}", markup=False)
    out.print(f"before: {len(recording.calls)} calls on {recording.threads} thread(s); "
              f"after: {len(result.calls)} calls on {len({c.thread for c in result.calls})} thread(s)")
    out.print(f"minimized session {result.session_id}, seqs as stored (the origin's beside them):", markup=False)
    classes = call_classes(stored, session_class_hint(recording.header.driver))
    for call, cls, origin_seq in zip(stored, classes, origin_seqs(stored, result.calls)):
        beside = "" if origin_seq is None else f"  (origin seq {origin_seq})"
        out.print(f"  seq {call.seq:>6}  T{call.thread}  {message_name(call.msg, cls)}{beside}", markup=False)
    spent = f"{result.replays} replays, {result.candidates} candidates, {result.seconds:.2f}s"
    out.print(f"used {spent}" + (" (budget exhausted: not 1-minimal)" if result.exhausted else ""))
    out.print(f"replay of {result.session_id} {'reproduces' if result.verified else 'does NOT reproduce'} "
              f"the failure of {recording.header.id}", markup=False)


def _result_json(result: MinimizeResult, stored: list[RecordedCall]) -> dict:
    doc = result.to_json()
    for message, stored_seq in zip(doc["messages"], _stored_seqs(result.calls, stored)):
        message["stored_seq"] = stored_seq
    return doc


def _stored_seqs(calls: list[RecordedCall], stored: list[RecordedCall]) -> list[int | None]:
    by_origin = dict(zip(origin_seqs(stored, calls), (c.seq for c in stored)))
    return [by_origin.get(c.seq) for c in calls]


@app.command(epilog=examples(
    "drvtape minimize last --target recorded",
    "drvtape minimize 27eb41c9 --target dll:./mydrv.dll --repeat 5 --max-replays 300",
))
def minimize(
    ctx: typer.Context,
    session: str = SESSION,
    target: str = TARGET_FOR_REPLAY,
    repeat: int = typer.Option(None, min=1, max=1000, metavar="N", show_default="1 for sim:, 3 else",
                               help="Runs per candidate, all of which must reproduce."),
    max_replays: int = typer.Option(1000, min=1, metavar="N",
                                    help="Stop after N driver runs, keeping the best so far."),
    threads: Threads = REPLAY_THREADS,
    timeout: float = TIMEOUT,
    quiet: bool = QUIET,
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """Delta-debug a failing session down to the calls that still make it fail; store the result."""
    fmt = output_format(fmt, as_json)
    recording, tgt = load_with_target(ctx, session, target)
    open_store(ctx, create=True).close()
    db = db_of(ctx)
    with progress("minimizing", max_replays, quiet=quiet) as bar:
        task = bar.add_task("minimize", total=max_replays)
        result = run_minimize(recording, tgt, repeat=repeat, max_replays=max_replays, threads=threads.value,
                              timeout=timeout, on_replay=lambda n: bar.update(task, completed=n))
    result.session_id = save_derived(recording, result.calls, tgt, db, source="minimize", threads=threads.value,
                                     timeout=timeout)
    result.verified = replays_as_stored(db, result.session_id, tgt, threads=threads.value, timeout=timeout)
    stored = stored_recording(ctx, result.session_id).calls
    if fmt is Format.JSON:
        print_json(_result_json(result, stored))
    else:
        _print_result(result, stored)
    if not result.verified:
        raise typer.Exit(1)
