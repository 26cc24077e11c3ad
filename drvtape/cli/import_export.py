"""`drvtape import` and `drvtape export`: sessions as JSONL files (see drvtape.formats.jsonl)."""

import sys
from collections.abc import Iterator
from typing import BinaryIO

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import ALL, FORMAT, JSON, OUTPUT, QUIET, SESSIONS, output_format
from drvtape.cli.output import STDIO, Format, RecordView, out, print_json, print_records, progress, write_output
from drvtape.cli.selection import chosen_sessions
from drvtape.errors import DrvtapeError
from drvtape.formats.jsonl import Interchange, dump_session, read_jsonl
from drvtape.schema.events import Event, SessionHeader
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions


def _decoded(stream: BinaryIO, source: str) -> Iterator[str]:
    for line_no, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DrvtapeError(f"{source}:{line_no}: not UTF-8 text") from None


def read_sessions(path: str) -> Interchange:
    """The sessions and blobs of a JSONL file, or of stdin for -; streamed, so a big file is not read whole."""
    source = "<stdin>" if path == STDIO else path
    try:
        if path == STDIO:
            return read_jsonl(_decoded(sys.stdin.buffer, source), source)
        with open(path, "rb") as stream:
            return read_jsonl(_decoded(stream, source), source)
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror}") from None


def _read_all(files: list[str], quiet: bool) -> Interchange:
    found = Interchange([], {})
    file_of = {}
    with progress("reading files", len(files), quiet=quiet) as bar:
        task = bar.add_task("read", total=len(files))
        for path in files:
            read = read_sessions(path)
            for header, events in read.sessions:
                if header.id in file_of:
                    raise DrvtapeError(f"session {header.id} is in both {file_of[header.id]} and {path}")
                file_of[header.id] = path
                found.sessions.append((header, events))
            found.blobs.update(read.blobs)
            bar.advance(task)
    return found


def _already_stored(store: Store, header: SessionHeader, events: list[Event]) -> bool:
    """True when the database holds exactly this session; refused when it holds another with its id."""
    stored = store.find(header.id)
    if stored is None:
        return False
    if stored.header != header or store.events(stored.pk) != events:
        raise DrvtapeError(f"session {header.id} is already in the database with other content: nothing "
                           "imported (export both and compare, or run verify)")
    return True


@app.command("import", epilog=examples(
    "drvtape import crash.jsonl",
    "drvtape --db other.db import a.jsonl b.jsonl --json",
    "drvtape export last | drvtape --db other.db import -",
))
def import_(
    ctx: typer.Context,
    files: list[str] = typer.Argument(..., metavar="FILE", help="JSONL files; - reads stdin.",
                                      show_default=False),
    quiet: bool = QUIET,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Add the sessions of JSONL files to the database in one transaction: all of them or nothing.

    A session the database holds already is reported and not stored twice (exit 0); one with the
    same id and other content is refused (exit 2)."""
    fmt = output_format(fmt, as_json)
    found, blobs = _read_all(files, quiet)
    # Opened only once every file is valid, so a bad file never creates an empty database.
    with open_store(ctx, create=True) as store:
        there = {h.id for h, evs in found if _already_stored(store, h, evs)}  # refused before any write
        new = [(h, evs) for h, evs in found if h.id not in there]
        end_orphaned_sessions(store)
        store.import_sessions(new, blobs)
    events = sum(len(evs) for _, evs in new)
    if fmt is Format.JSON:
        print_json({"imported": [str(h.id) for h, _ in new], "events": events,
                    "already_there": [str(h.id) for h, _ in found if h.id in there]})
        return
    if fmt is Format.TABLE:
        out.print(f"imported {len(new)} session(s), {events} events"
                  + (f"; {len(there)} already there, not stored again" if there else ""), markup=False)
    print_records(fmt, found, RecordView(
        headers=("session", "status", "events"), keys=("session",),
        document=lambda s: {"session": str(s[0].id), "status": _status(s[0].id in there), "events": len(s[1])},
        cells=lambda s: [str(s[0].id), _status(s[0].id in there), str(len(s[1]))],
    ))


def _status(already: bool) -> str:
    return "already there" if already else "imported"


@app.command(epilog=examples(
    "drvtape export last -o crash.jsonl",
    "drvtape export --all > everything.jsonl",
    "drvtape export 27eb41c9 a81f0c3e -o -",
))
def export(
    ctx: typer.Context,
    sessions: list[str] = SESSIONS,
    every: bool = ALL,
    output: str = OUTPUT,
) -> None:
    """Write sessions as JSONL: exact, so importing the file elsewhere gives the same sessions."""
    with open_store(ctx, read_only=True) as store:
        chosen = chosen_sessions(store, sessions, every)
        written: set[str] = set()  # blob lines once per file
        write_output(output, (line + "\n" for stored in chosen
                              for line in dump_session(stored.header, store.events(stored.pk), store.blobs, written)))
