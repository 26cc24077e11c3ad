"""`drvtape demo`: record a simulated shutdown bug, look at it, replay it."""

import shlex
from importlib import resources

import typer
from rich.markup import escape

from drvtape.cli.app import app, command, db_of, examples
from drvtape.cli.launcher import typed_prog
from drvtape.cli.output import out
from drvtape.errors import DrvtapeError

DEMO_BUGS = ("exit-spin", "use-after-release", "disable-with-open", "thread-affinity")


def _demo_steps(bug: str) -> list[list[str]]:
    workload = resources.files("drvtape") / "workloads" / f"{bug}.toml"
    return [
        ["record", "--target", f"sim:{bug}", "--workload", str(workload)],
        ["show", "last"],
        ["events", "last", "--msg", "DRV_EXITSESSION"],
        ["replay", "last", "--target", f"sim:{bug}", "--repeat", "5"],
        ["replay", "last", "--target", "sim:reference"],
    ]


@app.command(epilog=examples("drvtape demo", "drvtape demo --bug thread-affinity --db /tmp/demo.db"))
def demo(
    ctx: typer.Context,
    bug: str = typer.Option("exit-spin", metavar="BUG", help=f"Which simulated shutdown bug: {', '.join(DEMO_BUGS)}."),
) -> None:
    """Record a simulated shutdown bug, look at it, and replay it: the commands to type next."""
    if bug not in DEMO_BUGS:
        raise DrvtapeError(f"unknown demo bug {bug!r}: choose one of {', '.join(DEMO_BUGS)}")
    db = db_of(ctx)
    base = ["--db", db] if db else []
    typed = []
    for args in _demo_steps(bug):
        line = typed_prog() + " " + shlex.join(base + args)
        typed.append(line)
        out.print(f"\n[bold]$ {escape(line)}[/bold]")
        code = command().main(args=base + args, prog_name="drvtape", standalone_mode=False)
        if args[0] == "replay" and args[-1] == "sim:reference":
            if code != 1:
                raise DrvtapeError("the reference driver reproduced the bug: the demo's drivers are broken")
        elif code not in (0, None):
            raise DrvtapeError(f"'{line}' failed with exit code {code}")
    out.print("\n[bold]The commands above, to type next:[/bold]")
    for line in typed:
        out.print(f"  {line}", markup=False)
