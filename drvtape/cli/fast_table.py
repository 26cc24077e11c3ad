"""Tables of many rows, written line by line as rich would draw them (issue 16: rich took
~9 s to measure and draw 10,000 sessions; this takes well under one).

Only tables rich would draw at their natural width, one line a row: no title, every cell
printable text, and narrow enough for a terminal. print_records falls back to rich for the
rest (cells it wraps or folds).
"""

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

# rich's box.HEAVY_HEAD, its Table's default
TOP, HEAD, BELOW_HEAD, ROW, BOTTOM = ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "└─┴┘")


def drawable(headers: Sequence[str], rows: list[Sequence[str]]) -> list[int] | None:
    """The columns' widths when every cell is one printable line; else None."""
    widths = [cell_len(h) for h in headers]
    for row in rows:
        for n, cell in enumerate(row):
            if not cell.isprintable():
                return None
            if len(cell) > widths[n] or not cell.isascii():
                widths[n] = max(widths[n], cell_len(cell))
    return widths


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
    stream.writelines(f"{ROW[0]} {bar.join(_pad(c, w) for c, w in zip(row, widths))} {ROW[3]}\n" for row in rows)
    stream.write(rule(BOTTOM) + "\n")
    stream.flush()


def _pad(cell: str, width: int) -> str:
    return cell + " " * (width - (len(cell) if cell.isascii() else cell_len(cell)))
