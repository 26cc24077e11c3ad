"""Output: tables for people, JSON/JSON Lines/CSV for programs, progress on stderr, files or stdout.

Every command that prints records renders them through `print_records`, so `--format`
means the same everywhere.
"""

import csv
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

import orjson
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from drvtape.cli import fast_table
from drvtape.errors import DrvtapeError
from drvtape.formats.compressed import zstd_writer

if TYPE_CHECKING:
    from rich.progress import Progress

# emoji=False: rich replaces :notes: by an emoji even with markup=False, and recorded text
# (a driver's name, a fault's module) prints as it was recorded
out = Console(highlight=False, emoji=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, emoji=False)

STDIO = "-"  # as a file name: stdout for output, stdin for input


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"


def progress(label: str, total: int | None, *, quiet: bool = False) -> "Progress":
    """A progress bar on stderr for long work; silent when stderr is not a terminal, or with --quiet."""
    # imported here: rich.progress was 15-37 ms of every command's start-up (-X importtime),
    # `sessions` and the other listings draw no bar
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), console=err, transient=True,
                    disable=quiet or not err.is_terminal)


def fail(message: str) -> NoReturn:
    """A user error: one line on stderr, exit code 2."""
    # written raw: a console would wrap a long message onto several lines
    sys.stderr.write("drvtape: error: " + " ".join(message.split()) + "\n")
    sys.exit(2)


def json_text(document: Any, *, indent: int | None = 2) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(document, indent=indent, separators=separators, default=str, ensure_ascii=False)


def print_json(document: Any) -> None:
    sys.stdout.write(json_text(document) + "\n")


JSON_CHUNK = 1_000  # documents encoded at once by write_json_array
_PLAIN = frozenset({str, int, bool, type(None)})


def write_json_array(documents: Iterable[Any]) -> None:
    """print_json(list(documents))'s text, encoded and written JSON_CHUNK documents at a time
    (json.dumps with indent runs json's encoder in Python: 10,000 sessions took ~1 s)."""
    documents = iter(documents)
    opening = "["
    while chunk := list(itertools.islice(documents, JSON_CHUNK)):
        text = _encoded(chunk, indent=2)  # "[\n  ...\n]"
        sys.stdout.write(f"{opening}\n{text[2:-2]}")
        opening = ","
    sys.stdout.write("[]\n" if opening == "[" else "\n]\n")


def json_line(document: Any) -> str:
    return _encoded(document, indent=None) + "\n"


def _encoded(document: Any, *, indent: int | None) -> str:
    """json_text's text, by orjson when that is the same text: for documents of text, ints,
    bools and None only (orjson writes floats, enums and dates its own way; it refuses ints
    beyond 64 bits and lone surrogates)."""
    if _plain(document):
        try:
            return orjson.dumps(document, option=orjson.OPT_INDENT_2 if indent else 0).decode()
        except orjson.JSONEncodeError:
            pass
    return json_text(document, indent=indent)


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is dict:  # the types at once first: most documents hold no containers
        return {str}.issuperset(map(type, value)) and (
            _PLAIN.issuperset(map(type, value.values())) or all(map(_plain, value.values())))
    return (kind is list or kind is tuple) and all(map(_plain, value))


# ---- tables -----------------------------------------------------------------------------


def table(*headers: str, keys: Sequence[str] = (), **kwargs) -> Table:
    """A table whose `keys` columns (ids, message names) are never cut or wrapped; on a narrow
    terminal the other columns wrap, and a word too long for its column ends in an ellipsis."""
    return Table(*(Column(h, no_wrap=h in keys) for h in headers), **kwargs)


def add_row(tbl: Table, cells: Iterable[str]) -> None:
    tbl.add_row(*(Text(cell) for cell in cells))  # recorded text is data, never rich markup


def print_table(tbl: Table) -> None:
    if not out.is_terminal:
        # Piped output is read by grep and friends: never shrink or fold it to a terminal's width
        # (Console.print's width= cannot exceed the console's own width, hence a console for it).
        natural = Measurement.get(out, out.options.update(max_width=1_000_000), tbl).maximum
        Console(highlight=False, emoji=False, width=max(out.width, natural)).print(tbl)
        return
    keys = 1  # the left border
    for column in tbl.columns:
        if column.no_wrap:  # else rich's last resort shrinks no-wrap columns too
            column.min_width = max(cell_len(str(c)) for c in (column.header, *column.cells))
        keys += (column.min_width or 1) + 3  # padding and border
    # A terminal too narrow even for the key columns gets longer lines rather than cut ids.
    Console(highlight=False, emoji=False, width=max(out.width, keys), force_terminal=True).print(tbl)


# ---- records in every format ------------------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    """How one kind of record prints: `document` for json/jsonl, `cells` for the table (and
    for csv unless `csv_cells` says otherwise), under `headers`; `keys` are never cut."""
    headers: tuple[str, ...]
    document: Callable[[Any], dict]
    cells: Callable[[Any], Sequence[str]]
    csv_cells: Callable[[Any], Sequence] | None = None
    csv_headers: tuple[str, ...] | None = None
    keys: tuple[str, ...] = ()


def print_records(fmt: Format, items: Sequence, view: RecordView, *, title: str | None = None) -> None:
    if fmt is Format.JSON:
        write_json_array(map(view.document, items))
    elif fmt is Format.JSONL:
        sys.stdout.writelines(json_line(view.document(i)) for i in items)
    elif fmt is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(view.csv_headers or view.headers)
        cells = view.csv_cells or view.cells
        writer.writerows(["" if v is None else str(v) for v in cells(i)] for i in items)
    else:
        rows = [view.cells(i) for i in items]
        widths = fast_table.drawable(view.headers, rows) if title is None else None
        if widths is not None and (not out.is_terminal or fast_table.line_width(widths) <= out.width):
            fast_table.write(out, view.headers, rows, widths)
            return
        tbl = table(*view.headers, keys=view.keys, title=title)
        for row in rows:
            add_row(tbl, row)
        print_table(tbl)


# ---- files ------------------------------------------------------------------------------


def write_output(path: str | None, lines: Iterable[str], *, compress: bool = False) -> None:
    """Lines to stdout (no path, or -), or to a file written completely or not at all; as
    zstd with compress (drvtape.formats.compressed).

    The file is written under a temporary name made by mkstemp (O_EXCL, unpredictable) in the
    target's folder, so a symlink planted there is never followed, then renamed over the target."""
    if path is None or path == STDIO:
        if compress:
            sys.stdout.flush()
            _write_zstd(sys.stdout.buffer, lines)
        else:
            sys.stdout.writelines(lines)
        return
    target = Path(path)
    if not target.name or target.name in (".", ".."):
        raise DrvtapeError(f"cannot write {path!r}: give a file name (or - for stdout)")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:200]}.", suffix=".tmp", dir=target.parent)
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make the file private
        if compress:
            with open(fd, "wb") as stream:
                _write_zstd(stream, lines)
        else:
            with open(fd, "w", encoding="utf-8", newline="\n") as stream:
                stream.writelines(lines)
        os.replace(tmp, target)
    except OSError as exc:
        raise DrvtapeError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _write_zstd(stream: BinaryIO, lines: Iterable[str]) -> None:
    with zstd_writer(stream) as raw:
        lines = iter(lines)
        while batch := "".join(itertools.islice(lines, 4096)):  # one compressor call per batch, not per line
            raw.write(batch.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def read_input(path: str) -> tuple[bytes, str]:
    """A file's bytes, or stdin's for -; and the name to report problems under."""
    if path == STDIO:
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(path).read_bytes(), path
    except IsADirectoryError:
        raise DrvtapeError(f"cannot read {path}: Is a directory") from None
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror}") from None
