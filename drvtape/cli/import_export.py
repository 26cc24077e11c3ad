"""`drvtape import` and `drvtape export`: sessions as JSONL files (see drvtape.formats.jsonl).

Both stream: import stores each file's lines as it reads them, a chunk of rows at a time,
in one transaction for all its files (a bad line anywhere rolls all of it back); export
reads a session's rows a chunk at a time. Memory stays bounded whatever the size.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.fresh_store import all_or_nothing_store
from drvtape.cli.options import ALL, FORMAT, JSON, OUTPUT, QUIET, SESSIONS, output_format
from drvtape.cli.output import STDIO, Format, RecordView, out, print_json, print_records, progress, write_output
from drvtape.cli.selection import chosen_sessions
from drvtape.errors import DrvtapeError
from drvtape.formats.compressed import DAMAGE, decompressed
from drvtape.formats.jsonl import Interchange, dump_rows
from drvtape.formats.jsonl_reader import Blob, PlainRows, RowEvent, jsonl_items, read_jsonl
from drvtape.store.bulk import BulkLoad, Loaded
from drvtape.store.recovery import end_orphaned_sessions


def _lines(stream: BinaryIO, source: str) -> Iterator[bytes]:
    """The stream's lines as bytes: jsonl_items checks they are UTF-8 (orjson reads bytes)."""
    line_no = 0
    try:
        for line_no, raw in enumerate(stream, 1):
            yield raw
    except DAMAGE as exc:
        raise DrvtapeError(f"{source}:{line_no + 1}: damaged compressed data ({exc or type(exc).__name__})") from None


@contextmanager
def input_lines(path: str) -> Iterator[tuple[Iterator[bytes], str]]:
    """The lines of a JSONL file (plain, zstd or gzip), or of stdin for -, read as they are
    consumed; and the name to report problems under."""
    source = "<stdin>" if path == STDIO else path
    try:
        if path == STDIO:
            yield _lines(decompressed(sys.stdin.buffer), source), source
            return
        with open(path, "rb") as stream:
            yield _lines(decompressed(stream), source), source
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_sessions(path: str) -> Interchange:
    """The sessions and blobs of a JSONL file, or of stdin for -, in memory."""
    with input_lines(path) as (lines, source):
        return read_jsonl(lines, source)


def load_file(load: BulkLoad, path: str, file_of: dict) -> None:
    with input_lines(path) as (lines, source):
        session = None
        for item in jsonl_items(lines, source):
            if item.__class__ is PlainRows:
                load.add_rows(session, item.rows)
            elif item.__class__ is RowEvent:
                load.add(session, item.row)
            elif item.__class__ is Blob:
                load.blob(item.sha256, item.data)
            else:
                if item.id in file_of:
                    raise DrvtapeError(f"session {item.id} is in both {file_of[item.id]} and {path}")
                file_of[item.id] = path
                if session is not None:
                    load.end(session)
                session = load.begin(item)
        if session is not None:
            load.end(session)


@app.command("import", epilog=examples(
    "drvtape import crash.jsonl",
    "drvtape --db other.db import a.jsonl b.jsonl --json",
    "drvtape export last | drvtape --db other.db import -",
    "drvtape import archive.jsonl.zst",
))
def import_(
    ctx: typer.Context,
    files: list[str] = typer.Argument(..., metavar="FILE", help="JSONL files (plain, zstd or gzip); - reads stdin.",
                                      show_default=False),
    quiet: bool = QUIET,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Add the sessions of JSONL files to the database in one transaction: all of them or nothing.

    A session the database holds already is reported and not stored twice (exit 0); one with the
    same id and other content is refused (exit 2)."""
    fmt = output_format(fmt, as_json)
    if files.count(STDIO) > 1:
        raise DrvtapeError("stdin (-) can be read once")
    with all_or_nothing_store(ctx, lambda: _raise_input_problem(files)) as store:
        end_orphaned_sessions(store)
        with progress("importing files", len(files), quiet=quiet) as bar, store.bulk_load() as load:
            task = bar.add_task("import", total=len(files))
            file_of: dict = {}
            for path in files:
                load_file(load, path, file_of)
                bar.advance(task)
    _print_imported(fmt, load.loaded)


def _raise_input_problem(files: list[str]) -> None:
    """The input's first problem, if it has one: it is reported before a database that cannot
    be opened, as when every file was read before the database (read again here to find it)."""
    for path in files:
        with input_lines(path) as (lines, source):
            for _ in jsonl_items(lines, source):
                pass


def _print_imported(fmt: Format, loaded: list[Loaded]) -> None:
    new = [s for s in loaded if not s.already_there]
    there = [s for s in loaded if s.already_there]
    events = sum(s.events for s in new)
    if fmt is Format.JSON:
        print_json({"imported": [str(s.session_id) for s in new], "events": events,
                    "already_there": [str(s.session_id) for s in there]})
        return
    if fmt is Format.TABLE:
        out.print(f"imported {len(new)} session(s), {events} events"
                  + (f"; {len(there)} already there, not stored again" if there else ""), markup=False)
    print_records(fmt, loaded, RecordView(
        headers=("session", "status", "events"), keys=("session",),
        document=lambda s: {"session": str(s.session_id), "status": _status(s.already_there), "events": s.events},
        cells=lambda s: [str(s.session_id), _status(s.already_there), str(s.events)],
    ))


def _status(already: bool) -> str:
    return "already there" if already else "imported"


@app.command(epilog=examples(
    "drvtape export last -o crash.jsonl",
    "drvtape export --all > everything.jsonl",
    "drvtape export 27eb41c9 a81f0c3e -o -",
    "drvtape export --all --compress -o archive.jsonl.zst",
))
def export(
    ctx: typer.Context,
    sessions: list[str] = SESSIONS,
    every: bool = ALL,
    output: str = OUTPUT,
    compress: bool = typer.Option(False, "--compress", help="Write zstd (import reads it as it is)."),
) -> None:
    """Write sessions as JSONL: exact, so importing the file elsewhere gives the same sessions."""
    with open_store(ctx, read_only=True) as store:
        chosen = chosen_sessions(store, sessions, every)
        written: set[str] = set()  # blob lines once per file
        with store.snapshot():  # every chunk of every session read at one moment
            write_output(output, (line + "\n" for stored in chosen
                                  for line in dump_rows(stored.header, store.stream_rows(stored.pk), store.blobs,
                                                        written)), compress=compress)
