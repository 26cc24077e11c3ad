"""`drvtape hook run [--driver PATTERN] [--follow-children] -- PROGRAM [ARGS]`: record the drivers one program loads,
with no registry change and no administrator rights (drvtape.recorder.hookrun, docs/hook.md).

Every tape the program produced is ingested when it ends (also after a crash) and the sessions
are printed as `tap run` prints them. The exit code is the program's (1 when it does not fit
in 0..255, 130 when interrupted)."""


import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.ingest import store_program_tapes
from drvtape.cli.options import FORMAT, JSON, output_format
from drvtape.cli.output import Format, err
from drvtape.cli.program_end import exit_as_program
from drvtape.recorder.hookrun import check_pattern, hook_run
from drvtape.recorder.taprun import choose_prefix, program_arch


hook_app = typer.Typer(help="Record the drivers one program loads, through a hook in that program only.",
                       no_args_is_help=True, epilog=examples("drvtape hook run -- player.exe clip.avi"))
app.add_typer(hook_app, name="hook")


@hook_app.command("run", epilog=examples(
    "drvtape hook run -- player.exe clip.avi",
    "drvtape hook run --driver 'msrle32*' --prefix ~/.wine --json -- app.exe",
    "drvtape hook run --follow-children -- launcher.exe",
))
def hook_run_command(
    ctx: typer.Context,
    program: list[str] = typer.Argument(..., metavar="-- PROGRAM [ARGS]", help="The program to run and its arguments.",
                                        show_default=False),
    driver: str = typer.Option(None, "--driver", metavar="PATTERN", show_default="every driver",
                               help="Record only the drivers whose file name matches (* and ?, any case)."),
    follow_children: bool = typer.Option(False, "--follow-children",
                                         help="Put the hook in the processes PROGRAM starts too, and theirs."),
    prefix: str = typer.Option(None, "--prefix", metavar="DIR",
                               show_default="WINEPREFIX, else drvtape's own (the x86 one for a 32-bit PROGRAM)",
                               help="The Wine prefix to run in (an existing one; ignored on Windows)."),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Run PROGRAM with the recording hook in it, and store the sessions of the drivers it loaded."""
    fmt = output_format(fmt, as_json)
    check_pattern(driver)
    open_store(ctx, create=True).close()  # a bad --db fails here, before the program runs
    arch = program_arch(program, [])
    chosen = choose_prefix(prefix, arch)
    run = hook_run(program, chosen, pattern=driver, follow_children=follow_children, arch=arch)
    store_program_tapes(ctx, fmt, run.tapes, run.folder)
    if not run.tapes:
        err.print(f"note: {program[0]} loaded no driver" + (f" matching {driver}" if driver else ""),
                  markup=False, soft_wrap=True)
    exit_as_program(run, program[0], "what was recorded is stored")
