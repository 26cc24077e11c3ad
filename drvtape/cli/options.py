"""The options and arguments several commands share, declared once, and the one check of
"SESSION... or --all"."""

import typer

from drvtape.cli.output import Format
from drvtape.errors import DrvtapeError


SESSION = typer.Argument(..., metavar="SESSION", help="A session: its UUID, a unique prefix of it, or 'last'.",
                         show_default=False)
SESSIONS = typer.Argument(None, metavar="SESSION", help="Sessions: UUIDs, unique prefixes, or 'last'.",
                          show_default=False)
ALL = typer.Option(False, "--all", help="Every session in the database, oldest first.")

# Human output by default; --json is the short form of --format json.
JSON = typer.Option(False, "--json", help="Print JSON (the same as --format json).")
WIDE = typer.Option(False, "--wide", help="Full session ids in tables (else the shortest unique prefix, "
                                          "at least 8 characters).")

MSG_HELP = ("A message: a name (DRV_*, ICM_*, ACMDM_*, MCI_*; WODM_*, WIDM_*, MODM_*, MIDM_*, MXDM_*, AUXDM_* "
            "at their device entry point) or a number (DriverProc's). ICM_*, ACMDM_* and MCI_* match only "
            "messages to an instance of their class; a DRV_* name or a number, any instance.")
QUIET = typer.Option(False, "--quiet", help="No progress bar on stderr.")
OUTPUT = typer.Option(None, "-o", "--output", metavar="FILE", show_default="stdout", help="Write to FILE; - is stdout.")


def _format_option(allowed: tuple[Format, ...]):
    names = "|".join(f.value for f in allowed)

    def parse(text: str) -> Format:
        try:
            fmt = Format(text.strip().lower())
        except ValueError:
            raise DrvtapeError(f"unknown format {text!r}: use {', '.join(f.value for f in allowed)}") from None
        if fmt not in allowed:
            raise DrvtapeError(f"--format {fmt.value}: this command prints one document; use "
                               f"{' or '.join(f.value for f in allowed)}")
        return fmt

    return typer.Option(Format.TABLE.value, "--format", metavar=names, parser=parse,
                        help="How to print: a table for people, or for programs " +
                             ", ".join(f.value for f in allowed if f is not Format.TABLE) + ".")


FORMAT = _format_option(tuple(Format))  # commands that print records
DOCUMENT_FORMAT = _format_option((Format.TABLE, Format.JSON))  # commands that print one document


def output_format(fmt: Format, as_json: bool) -> Format:
    """The format asked for by --format and/or its short form --json."""
    if as_json and fmt not in (Format.TABLE, Format.JSON):
        raise DrvtapeError(f"--json is --format json: give one of --json and --format {fmt.value}")
    return Format.JSON if as_json else fmt


def require_sessions_or_all(refs: list[str] | None, every: bool) -> None:
    if bool(refs) == every:
        raise DrvtapeError("give SESSION... or --all (one of them)")
