"""Output for people (rich tables on stdout, progress on stderr) and for programs (--json)."""

import json
import sys
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def progress(label: str, total: int | None, *, quiet: bool = False) -> Progress:
    """A progress bar on stderr for long work; silent when stderr is not a terminal, or with --quiet."""
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), console=err, transient=True,
                    disable=quiet or not err.is_terminal)


def fail(message: str) -> NoReturn:
    """A user error: one line on stderr, exit code 2."""
    # written raw: a console would wrap a long message onto several lines
    sys.stderr.write("drvtape: error: " + " ".join(message.split()) + "\n")
    sys.exit(2)


def print_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")


def hexval(value: int | None) -> str:
    return "" if value is None else (f"0x{value:X}" if value >= 0 else str(value))
