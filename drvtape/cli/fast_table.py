"""Tables of many rows, written line by line as rich would draw them (issue 16: rich took
~9 s to measure and draw 10,000 sessions; this takes well under one).

Only tables rich would draw at their natural width, one line a row: no title, every cell
printable text, and narrow enough for a terminal. print_records falls back to rich for the
rest (cells it wraps or folds).
"""

from collections.abc import Sequence
from itertools import chain

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

# rich's box.HEAVY_HEAD, its Table's default
TOP, HEAD, BELOW_HEAD, ROW, BOTTOM = ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "└─┴┘")


def drawable(headers: Sequence[str], rows: list[Sequence[str]]) -> list[int] | None:
    """The columns' widths when every cell is one printable line; else None."""
    text = "".join(chain.from_iterable(rows))  # every cell at once: the tests below run in C
    if not text.isprintable():
        return None
    width = len if text.isascii() else cell_len
    return [max(cell_len(header), max(map(width, column), default=0))
            for header, column in zip(headers, zip(*rows) if rows else [()] * len(headers))]


def line_width(widths: list[int]) -> int:
    return sum(widths) + 3 * len(widths) + 1


def write(console: Console, headers: Sequence[str], rows: list[Sequence[str]], widths: list[int]) -> None:
    """The table on console's file: the header through the console (bold on a terminal), the
    rows as plain lines."""
    def rule(edges: str) -> str:
        left, fill, middle, right = edges
        return left + middle.join(fill * (w + 2) for w in widths) + right

    heading = Text(HEAD[0] + " ")
    for n, (header, width) in enumerate(zip(headers, widths)):
        if n:
            heading.append(f" {HEAD[2]} ")
        heading.append(header + " " * (width - cell_len(header)), style="bold")
    heading.append(" " + HEAD[3])
    console.print(rule(TOP), heading, rule(BELOW_HEAD), sep="\n", crop=False, overflow="ignore", no_wrap=True)
    stream = console.file
    bar = f" {ROW[2]} "
    stream.writelines(f"{ROW[0]} {bar.join(_padded(row, widths))} {ROW[3]}\n" for row in rows)
    stream.write(rule(BOTTOM) + "\n")
    stream.flush()


def _padded(row: Sequence[str], widths: list[int]):
    """The row's cells padded to their widths (str.ljust counts characters: right for ASCII)."""
    if "".join(row).isascii():
        return map(str.ljust, row, widths)
    return (cell + " " * (width - cell_len(cell)) for cell, width in zip(row, widths))
