"""`drvtape tap run --alias A --real DLL [...] -- PROGRAM [ARGS]`: record a program's drivers in one command.

The taps are installed, the program runs (under Wine off Windows) and is waited for, the
aliases are uninstalled whatever happened, and every tape the program produced is ingested
(drvtape.recorder.taprun). The exit code is the program's (1 when it does not fit in 0..255,
130 when interrupted)."""


import typer

from drvtape.cli.app import examples, open_store
from drvtape.cli.ingest import store_program_tapes
from drvtape.cli.options import FORMAT, JSON, output_format
from drvtape.cli.output import Format, err
from drvtape.cli.program_end import exit_as_program
from drvtape.cli.tap import tap_app
from drvtape.errors import DrvtapeError
from drvtape.recorder.taprun import choose_prefix, program_arch, tap_run



@tap_app.command("run", epilog=examples(
    "drvtape tap run --alias vidc.mrle --real msrle32.dll -- player.exe clip.avi",
    "drvtape tap run --alias msacm.imaadpcm --real imaadp32.acm --alias vidc.cvid --real iccvid.dll "
    "--prefix ~/.wine --json -- app.exe",
))
def tap_run_command(
    ctx: typer.Context,
    program: list[str] = typer.Argument(..., metavar="-- PROGRAM [ARGS]", help="The program to run and its arguments.",
                                        show_default=False),
    aliases: list[str] = typer.Option(..., "--alias", metavar="ALIAS", help="A driver alias, e.g. vidc.mrle "
                                      "(repeat with --real for several)."),
    reals: list[str] = typer.Option(..., "--real", metavar="DLL", help="The real driver of the --alias before it."),
    prefix: str = typer.Option(None, "--prefix", metavar="DIR", show_default="WINEPREFIX, else drvtape's own",
                               help="The Wine prefix to run in (an existing one; ignored on Windows)."),
    tap: str = typer.Option(None, "--tap", metavar="PATH", show_default="build it", help="A built drvtap.dll."),
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Install the tap on each ALIAS, run PROGRAM, uninstall, and store the sessions it recorded."""
    fmt = output_format(fmt, as_json)
    if len(aliases) != len(reals):
        raise DrvtapeError(f"{len(aliases)} --alias but {len(reals)} --real: give one --real DLL after each --alias")
    pairs = list(zip(aliases, reals))
    arch = program_arch(program, pairs)  # a program and a driver of different arches: refused before the --db is made
    open_store(ctx, create=True).close()  # a bad --db fails here, before anything is installed
    chosen = choose_prefix(prefix, arch)
    err.print(f"running {program[0]} in {chosen.describe()}", markup=False, soft_wrap=True)
    run = tap_run(pairs, program, chosen, tap=tap)
    store_program_tapes(ctx, fmt, run.tapes, run.folder)
    if not run.tapes:
        err.print(f"warning: {program[0]} produced no tape (did it open any of the aliases?)", markup=False,
                  soft_wrap=True)
    exit_as_program(run, program[0], "the aliases were uninstalled, what was recorded is stored")
