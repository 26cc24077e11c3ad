"""`drvtape replay SESSION`: re-drive a recorded session against a target."""

import typer
from rich.table import Table

from drvtape.cli.app import app, examples
from drvtape.cli.driver_options import REPEAT, REPLAY_THREADS, TARGET_FOR_REPLAY, TIMEOUT, Threads
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, QUIET, SESSION, output_format
from drvtape.cli.output import Format, add_row, out, print_json, progress
from drvtape.cli.recorded import load_with_target
from drvtape.present.text import outcome_text
from drvtape.replay import ReplayReport, replay_recording


def _print_report(report: ReplayReport) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    add_row(table, ("session", str(report.recording.header.id)))
    add_row(table, ("target", f"{report.target} (threads: {report.threads})"))
    add_row(table, ("recorded", outcome_text(report.recording.outcome)))
    for outcome, count in report.distinct_outcomes:
        add_row(table, ("replayed", outcome_text(outcome)
                        + (f"  [{count} of {len(report.runs)} runs]" if len(report.runs) > 1 else "")))
    compared = report.memory[0]
    add_row(table, ("memory", f"{compared.outputs} output block(s), {compared.bytes} byte(s) compared"
                              + (f"; {report.unknown_calls} call(s) of unknown meaning sent with raw values"
                                 if report.unknown_calls else "")))
    out.print(table)
    if report.stopped is not None:
        out.print(f"stopped before {report.stopped.text}", markup=False)
    verdict = "reproduced" if report.reproduced else "NOT reproduced"
    out.print(f"{verdict}: {report.reproduced_runs} of {len(report.runs)} run(s) ended as the recording did")
    divergence = report.first_divergence
    if divergence is not None:
        out.print(f"first divergence: {outcome_text(divergence)}", markup=False)
    difference = next((m.difference for m in report.memory if m.difference is not None), None)
    if difference is not None:
        out.print(f"first memory difference: {difference.text()}", markup=False)


@app.command(epilog=examples(
    "drvtape replay last --target recorded --repeat 5",
    "drvtape replay last --target sim:reference",
    "drvtape replay 27eb41c9 --target dll:./mydrv.dll --timeout 2 --json",
    "drvtape replay last --target dll:./mycodec.dll --until-missing-memory",
))
def replay(
    ctx: typer.Context,
    session: str = SESSION,
    target: str = TARGET_FOR_REPLAY,
    threads: Threads = REPLAY_THREADS,
    repeat: int = REPEAT,
    timeout: float = TIMEOUT,
    quiet: bool = QUIET,
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
    until_missing_memory: bool = typer.Option(
        False, "--until-missing-memory",
        help="When a call's memory was not captured (or was cut short), replay the calls before it and say "
             "where it stopped, instead of refusing the session."),
) -> None:
    """Re-drive a recorded session against a target; exit 0 when every run reproduced it (every
    return and every output memory as recorded)."""
    fmt = output_format(fmt, as_json)
    recording, tgt = load_with_target(ctx, session, target)
    with progress("replaying", repeat, quiet=quiet or repeat == 1) as bar:
        task = bar.add_task("replay", total=repeat)
        report = replay_recording(recording, tgt, threads=threads.value, repeat=repeat, timeout=timeout,
                                  on_run=lambda i, o: bar.advance(task), until_missing_memory=until_missing_memory)
    if fmt is Format.JSON:
        print_json(report.to_json())
    else:
        _print_report(report)
    if not report.reproduced:
        raise typer.Exit(1)
