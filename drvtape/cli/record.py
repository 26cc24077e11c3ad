"""`drvtape record`: run a workload against a driver (under the hook, or for dll: through the tap in drvhost)
and store the session."""

from pathlib import Path

import typer

from drvtape.cli.app import app, db_of, examples, open_store
from drvtape.cli.driver_options import TIMEOUT, Threads
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, output_format
from drvtape.cli.output import STDIO, Format, err, out, print_json, read_input
from drvtape.errors import DrvtapeError
from drvtape.recorder.hook import Durability
from drvtape.recorder.workload import Workload, load_workload, parse_workload, record_workload
from drvtape.runtime.targets import parse_target


def _workload(path: str) -> Workload:
    if path != STDIO:
        return load_workload(Path(path))
    data, source = read_input(path)
    try:
        return parse_workload(data.decode("utf-8"), source)
    except UnicodeDecodeError:
        raise DrvtapeError(f"{source}: not UTF-8 text") from None


@app.command(epilog=examples(
    "drvtape record --target sim:exit-spin --workload drvtape/workloads/exit-spin.toml",
    "drvtape record -t py:mydriver:DriverProc -w steps.toml --durability process --json",
    "drvtape record --target dll:/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/msrle32.dll -w steps.toml",
))
def record(
    ctx: typer.Context,
    target: str = typer.Option(..., "--target", "-t", metavar="TARGET",
                               help="sim:NAME or py:MODULE:ATTR, a driver that runs in this process, or dll:PATH, a "
                                    "real DLL run in drvhost with the drvtap proxy in front of it (docs/workloads.md)."),
    workload: str = typer.Option(..., "--workload", "-w", metavar="FILE",
                                 help="The steps to run, a TOML file (docs/workloads.md); - reads stdin."),
    threads: Threads = typer.Option(Threads.FAITHFUL, metavar="faithful|serial",
                                    help="faithful: each thread the workload names is an OS thread of its own; "
                                         "serial: every step on one thread, in order."),
    timeout: float = TIMEOUT,
    durability: Durability = typer.Option(
        Durability.BATCHED, metavar="machine|process|batched",
        help="machine: each event fsync'ed before the driver sees it; process: written to the OS first; "
             "batched: fastest, a bounded number may be lost (docs/reliability.md). dll: machine flushes "
             "each tap record to the disk, the others keep what a crash of drvhost leaves."),
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """Run a workload against a target (under the hook, or a dll: through the tap) and store the session."""
    fmt = output_format(fmt, as_json)
    steps = _workload(workload)
    tgt = parse_target(target)
    open_store(ctx, create=True).close()  # a bad --db fails here, before the driver runs
    result = record_workload(steps, tgt, db_of(ctx), threads=threads.value, timeout=timeout,
                             durability=durability.value)
    with open_store(ctx) as store:
        summary = store.summary(store.resolve(result.session_id).pk)
    end = result.ending
    for note in result.notes:
        err.print(f"note: {note}", markup=False, soft_wrap=True)
    if fmt is Format.JSON:
        print_json({"session": result.session_id, "target": tgt.spec, "events": summary.events,
                    "calls": summary.calls, "threads": summary.threads, "end_reason": end.reason.value,
                    "call_seq": end.call_seq, "detail": end.detail})
        return
    ending = end.reason.value + (f" at seq {end.call_seq}" if end.call_seq else "")
    out.print(f"recorded session {result.session_id}: {summary.calls} calls, {summary.events} events, "
              f"{summary.threads} thread(s); ended: {ending}" + (f" ({end.detail})" if end.detail else ""),
              markup=False)
