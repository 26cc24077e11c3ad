"""`drvtape import` and `drvtape export`: sessions as JSONL files (see drvtape.formats.jsonl)."""

import os
import sys
from collections.abc import Iterable, Iterator
from typing import BinaryIO
from pathlib import Path

import typer

from drvtape.cli.app import QUIET, app, open_store
from drvtape.cli.render import out, print_json, progress
from drvtape.errors import DrvtapeError
from drvtape.schema.events import Event, SessionHeader
from drvtape.formats.jsonl import dump_session, parse_jsonl
from drvtape.store import Store, StoredSession
from drvtape.store.recovery import end_orphaned_sessions

STDIN = "-"


def _decoded(stream: BinaryIO, source: str) -> Iterator[str]:
    for line_no, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DrvtapeError(f"{source}:{line_no}: not UTF-8 text") from None


def _read_sessions(path: str) -> list[tuple[SessionHeader, list[Event]]]:
    source = "<stdin>" if path == STDIN else path
    try:
        if path == STDIN:
            return parse_jsonl(_decoded(sys.stdin.buffer, source), source)
        with open(path, "rb") as stream:
            return parse_jsonl(_decoded(stream, source), source)
    except OSError as exc:
        raise DrvtapeError(f"cannot read {path}: {exc.strerror}") from None


@app.command("import")
def import_(
    ctx: typer.Context,
    files: list[str] = typer.Argument(..., metavar="FILE...", help="JSONL files; - reads stdin."),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Add the sessions of JSONL files to the database, all in one transaction: all of them or nothing."""
    found: list[tuple[SessionHeader, list[Event]]] = []
    file_of = {}
    with progress("reading files", len(files), quiet=quiet) as bar:
        task = bar.add_task("read", total=len(files))
        for path in files:
            for header, events in _read_sessions(path):
                if header.id in file_of:
                    raise DrvtapeError(f"session {header.id} is in both {file_of[header.id]} and {path}")
                file_of[header.id] = path
                found.append((header, events))
            bar.advance(task)
    # Opened only once every file is valid, so a bad file never creates an empty database.
    with open_store(ctx, create=True) as store:
        end_orphaned_sessions(store)
        imported = store.import_sessions(found)
    if as_json:
        print_json({"imported": [str(i) for i in imported], "events": sum(len(evs) for _, evs in found)})
        return
    out.print(f"imported {len(imported)} session(s), {sum(len(evs) for _, evs in found)} events:", markup=False)
    for session_id in imported:
        out.print(f"  {session_id}", markup=False)


def _chosen(store: Store, refs: list[str], everything: bool) -> list[StoredSession]:
    if bool(refs) == everything:
        raise DrvtapeError("give SESSION... or --all, not both")
    if everything:
        return [StoredSession(s.pk, s.header) for s in store.sessions()]
    unique = {}
    for ref in refs:
        stored = store.resolve(ref)
        unique.setdefault(stored.pk, stored)
    return list(unique.values())


def _lines(store: Store, chosen: list[StoredSession]) -> Iterator[str]:
    for stored in chosen:
        yield from dump_session(stored.header, store.events(stored.pk))


def _write_whole(path: Path, lines: Iterable[str]) -> None:
    """Write a file completely or not at all: a failed export leaves no half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as stream:
            stream.writelines(line + "\n" for line in lines)
        os.replace(tmp, path)
    except OSError as exc:
        raise DrvtapeError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)


@app.command()
def export(
    ctx: typer.Context,
    sessions: list[str] = typer.Argument(None, metavar="SESSION...", help="UUIDs, unique prefixes, or 'last'."),
    everything: bool = typer.Option(False, "--all", help="Export every session, oldest first."),
    output: Path = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."),
) -> None:
    """Write sessions as JSONL: exact, so importing the file elsewhere gives the same sessions."""
    with open_store(ctx) as store:
        chosen = _chosen(store, sessions or [], everything)
        if output is None:
            for line in _lines(store, chosen):
                sys.stdout.write(line + "\n")
        else:
            _write_whole(output, _lines(store, chosen))
