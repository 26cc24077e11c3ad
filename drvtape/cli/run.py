"""Commands that drive a driver: record, replay, demo."""

from __future__ import annotations

import shlex
from enum import Enum
from importlib import resources
from pathlib import Path

import typer
from rich.table import Table

from drvtape.cli.app import QUIET, app, open_store
from drvtape.cli.render import out, print_json, progress
from drvtape.errors import DrvtapeError
from drvtape.recorder.hook import Durability
from drvtape.recorder.workload import load_workload, record_workload
from drvtape.replay import Recording, ReplayReport, load_recording, replay_recording
from drvtape.runtime.targets import Target, parse_target


class Threads(str, Enum):
    faithful = "faithful"
    serial = "serial"


THREADS_HELP = "faithful: a replay thread per recorded thread; serial: every call on one thread, in seq order"
TIMEOUT_HELP = "seconds a call of a real (dll:/py:) driver may take before it counts as a hang"


@app.command()
def record(
    ctx: typer.Context,
    target: str = typer.Option(..., "--target", "-t", help="sim:NAME, py:MODULE:ATTR"),
    workload: Path = typer.Option(..., "--workload", "-w", help="the steps to run, a TOML file (docs/workloads.md)"),
    threads: Threads = typer.Option(Threads.faithful, help=THREADS_HELP),
    timeout: float = typer.Option(5.0, min=0.001, help=TIMEOUT_HELP),
    durability: Durability = typer.Option(
        Durability.BATCHED, help="machine: each event fsync'ed before the driver sees it; process: written to "
                                 "the OS first; batched: fastest, a bounded number may be lost (docs/reliability.md)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Run a workload against a target under the hook and store the session."""
    steps = load_workload(workload)
    tgt = parse_target(target)
    open_store(ctx, create=True).close()  # a bad --db fails here, before the driver runs
    result = record_workload(steps, tgt, ctx.find_root().obj.db, threads=threads.value, timeout=timeout,
                             durability=durability.value)
    with open_store(ctx) as store:
        summary = store.summary(store.resolve(result.session_id).pk)
    if as_json:
        print_json({"session": result.session_id, "target": tgt.spec, "events": summary.events,
                    "calls": summary.calls, "threads": summary.threads, "end_reason": result.reason.value,
                    "call_seq": result.call_seq, "detail": result.detail})
        return
    ending = result.reason.value + (f" at seq {result.call_seq}" if result.call_seq else "")
    out.print(f"recorded session {result.session_id}: {summary.calls} calls, {summary.events} events, "
              f"{summary.threads} thread(s); ended: {ending}" + (f" ({result.detail})" if result.detail else ""))


@app.command()
def replay(
    ctx: typer.Context,
    session: str = typer.Argument(..., help="a session UUID, a unique prefix of one, or 'last'"),
    target: str = typer.Option(None, "--target", "-t",
                               help="sim:NAME, py:MODULE:ATTR or dll:PATH [default: the target it was recorded against]"),
    threads: Threads = typer.Option(Threads.faithful, help=THREADS_HELP),
    repeat: int = typer.Option(1, min=1, max=100_000, help="replay this many times, each against a fresh driver"),
    timeout: float = typer.Option(5.0, min=0.001, help=TIMEOUT_HELP),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Re-drive a recorded session against a target; exit 0 when every run reproduced it."""
    recording, tgt = load_with_target(ctx, session, target)
    with progress("replaying", repeat, quiet=quiet or repeat == 1) as bar:
        task = bar.add_task("replay", total=repeat)
        report = replay_recording(recording, tgt, threads=threads.value, repeat=repeat, timeout=timeout,
                                  on_run=lambda i, o: bar.advance(task))
    if as_json:
        print_json(report.to_json())
    else:
        _print_report(report)
    if not report.reproduced:
        raise typer.Exit(1)


def load_with_target(ctx: typer.Context, session: str, target: str | None) -> tuple[Recording, Target]:
    """A stored session, and the target given, or else the one it was recorded against."""
    with open_store(ctx) as store:
        recording = load_recording(store, session)
    spec = target or recording.header.target
    if not spec:
        raise DrvtapeError("the session does not say which target it was recorded against: pass --target")
    return recording, parse_target(spec)


def _print_report(report: ReplayReport) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("session", str(report.recording.header.id))
    table.add_row("target", f"{report.target} (threads: {report.threads})")
    table.add_row("recorded", report.recording.outcome.describe())
    distinct = {o.describe(): sum(1 for r in report.runs if r == o) for o in report.runs}
    for text, count in distinct.items():
        table.add_row("replayed", text + (f"  [{count} of {len(report.runs)} runs]" if len(report.runs) > 1 else ""))
    out.print(table)
    verdict = "reproduced" if report.reproduced else "NOT reproduced"
    out.print(f"{verdict}: {report.reproduced_runs} of {len(report.runs)} run(s) ended as the recording did")
    divergence = report.first_divergence
    if divergence is not None:
        out.print(f"first divergence: {divergence.describe()}")


DEMO_BUGS = ("exit-spin", "use-after-release", "disable-with-open", "thread-affinity")


@app.command()
def demo(
    ctx: typer.Context,
    bug: str = typer.Option("exit-spin", help=f"which simulated shutdown bug: {', '.join(DEMO_BUGS)}"),
) -> None:
    """Record a simulated shutdown bug, look at it, and replay it: the commands to type next."""
    if bug not in DEMO_BUGS:
        raise DrvtapeError(f"unknown demo bug {bug!r}: choose one of {', '.join(DEMO_BUGS)}")
    db = ctx.find_root().obj.db
    base = ["--db", db] if db else []
    workload = resources.files("drvtape") / "workloads" / f"{bug}.toml"
    steps = [
        ["record", "--target", f"sim:{bug}", "--workload", str(workload)],
        ["show", "last"],
        ["events", "last", "--msg", "DRV_EXITSESSION"],
        ["replay", "last", "--target", f"sim:{bug}", "--repeat", "5"],
        ["replay", "last", "--target", "sim:reference"],
    ]
    typed = []
    for args in steps:
        command = "drvtape " + shlex.join(base + args)
        typed.append(command)
        out.print(f"\n[bold]$ {command}[/bold]")
        code = app(args=base + args, prog_name="drvtape", standalone_mode=False)
        if args[0] == "replay" and args[-1] == "sim:reference":
            if code != 1:
                raise DrvtapeError("the reference driver reproduced the bug: the demo's drivers are broken")
        elif code not in (0, None):
            raise DrvtapeError(f"'{command}' failed with exit code {code}")
    out.print("\n[bold]The commands above, to type next:[/bold]")
    for command in typed:
        out.print(f"  {command}", markup=False)
