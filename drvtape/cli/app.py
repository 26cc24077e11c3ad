"""The typer application, its global options, and the conventions every command follows.

`command()` is the click command the console script runs: the typer app with `--db`
accepted after the subcommand too, `-h` beside `--help`, and placeholders (never type
names such as <str>) in every help. Each command's module registers it on `app` when
imported; `command(name)` imports the modules of that command only (COMMAND_MODULES).
"""

import importlib
from dataclasses import dataclass
from functools import cache

import typer
from rich.markup import escape
from typer.core import TyperArgument
from typer.main import get_command

from drvtape import __version__
from drvtape.cli.output import out
from drvtape.cli.values import database
from drvtape.store import Store

HELP_OPTION_NAMES = ["-h", "--help"]
DB_HELP = "SQLite file or SQLAlchemy URL; ./drvtape.db when not given."


def examples(*lines: str) -> str:
    """The end of a command's help: commands to copy, one a line."""
    return "Examples:\n" + "\n".join(f"  {escape(line)}" for line in lines)


app = typer.Typer(
    name="drvtape",
    help="Record, query and replay the DRV_* messages a Windows installable driver receives.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
    epilog="Run 'drvtape COMMAND -h' for a command's options and examples.\n\n" + examples(
        "drvtape demo", "drvtape sessions", "drvtape events last --msg DRV_EXITSESSION", "drvtape replay last --target recorded --repeat 5"),
)


@dataclass
class Options:
    db: str | None


def _print_version(wanted: bool) -> None:
    if wanted:
        out.print(f"drvtape {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", envvar="DRVTAPE_DB", metavar="PATH_OR_URL", parser=database, help=DB_HELP),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print drvtape's version and exit."),
) -> None:
    ctx.obj = Options(db=db)


def db_of(ctx: typer.Context) -> str | None:
    """The database named by --db / DRVTAPE_DB (None: the default)."""
    return ctx.find_root().obj.db


def open_store(ctx: typer.Context, *, create: bool = False, read_only: bool = False) -> Store:
    """The database named by --db / DRVTAPE_DB; create=True for commands that write,
    read_only=True for commands that only read (readable on read-only media, never written)."""
    return Store.open(db_of(ctx), create=create, read_only=read_only)


# ---- the conventions, applied to every command ------------------------------------------


def _db_after_subcommand(ctx: typer.Context, _param, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj.db = value


_carrier = typer.Typer()


@_carrier.command()
def _db_option_carrier(
    db: str = typer.Option(None, "--db", metavar="PATH_OR_URL", expose_value=False, callback=_db_after_subcommand,
                           parser=database,
                           help="As drvtape --db PATH_OR_URL (accepted after the command too): " + DB_HELP),
) -> None:
    """Only here so that typer builds the --db option that every subcommand gets."""


DB_AFTER_SUBCOMMAND = get_command(_carrier).params[0]


class _PlaceholderArgument(TyperArgument):
    """An argument whose help shows its placeholder alone, not its Python type (<str>)."""

    def display_type_rich(self, ctx) -> None:
        return None


def _with_placeholders(command) -> None:
    """Flags show no placeholder; other parameters their metavar, else their name in capitals."""
    help_option = command.get_help_option(typer.Context(command, help_option_names=HELP_OPTION_NAMES))
    for param in [*command.params, *([help_option] if help_option else [])]:
        if param.metavar is None:
            param.metavar = "" if getattr(param, "is_flag", False) else param.name.upper()
        if type(param) is TyperArgument:  # typer has no setting for this: the class says it
            param.__class__ = _PlaceholderArgument


def _apply_conventions(command, *, root: bool) -> None:
    subcommands = getattr(command, "commands", None)
    if subcommands is None and not root:
        command.params.append(DB_AFTER_SUBCOMMAND)
    _with_placeholders(command)
    for sub in (subcommands or {}).values():
        _apply_conventions(sub, root=False)


# ---- which module registers which command ------------------------------------------------

# The modules that register each command (tap's subcommands live in two). `drvtape sessions`
# imports its own only: importing every command's module cost ~0.3 s of the ~0.9 s start-up
# (python -X importtime on this machine, issue 16), the replay, lint and dllhost layers the
# listing never uses.
COMMAND_MODULES = {
    "db": ("db",), "demo": ("demo",), "diff": ("diff",), "doctor": ("doctor",), "events": ("events",),
    "explore": ("explore",), "export": ("import_export",), "hook": ("hook_run",), "import": ("import_export",),
    "ingest": ("ingest",), "lint": ("lint",), "minimize": ("minimize",), "pull": ("push_pull",),
    "push": ("push_pull",), "record": ("record",), "replay": ("replay",), "schema": ("schema",),
    "sessions": ("sessions",), "show": ("show",), "state": ("state",), "tap": ("tap", "tap_run"),
    "timeline": ("timeline",), "verify": ("verify",),
}


def named_command(args: list[str]) -> str | None:
    """The command args run (the first argument after the global --db option); None when it
    is none of drvtape's commands, or global options other than --db come first."""
    rest = iter(args)
    for arg in rest:
        if arg == "--db":
            next(rest, None)
        elif not arg.startswith("--db="):
            return arg if arg in COMMAND_MODULES else None
    return None


@cache
def command(name: str | None = None):
    """The click command `drvtape` runs: with every command, or with `name` only (what
    running that command needs)."""
    for module in COMMAND_MODULES[name] if name else sorted(set().union(*COMMAND_MODULES.values())):
        importlib.import_module(f"drvtape.cli.{module}")
    built = get_command(app)
    _apply_conventions(built, root=True)
    return built
