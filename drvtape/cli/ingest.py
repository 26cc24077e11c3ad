"""`drvtape ingest TAPE...`: tapes written by the native tap (native/drvtap) into sessions.

Every tape is read and checked before the database is touched; the new sessions of all
of them are stored in one transaction. A session already in the database (same id: the
id is derived from the tape's bytes) is reported and skipped, so ingesting a tape twice
does not duplicate it. Damage (a torn last record, a bad CRC in the middle) is reported
with its offset and the intact records are kept; it is not an error (exit 0). A file that
is not a tape at all is (exit 2, nothing written). `--unfinished hang` ends a session whose
calls never returned (no end record: the process was killed) as a hang at the oldest of
them, so that `drvtape replay` with a timeout can reproduce it.

Ingest a tape once its process has ended: a session's id comes from its header and first
record, so a tape ingested while still being written keeps the events it had then (a
later ingest says "already ingested" and warns that the tape has grown).
"""

import shutil
from dataclasses import dataclass
from pathlib import Path
from enum import Enum

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import FORMAT, JSON, QUIET, output_format
from drvtape.cli.output import STDIO, Format, RecordView, err, out, print_json, print_records, progress, read_input
from drvtape.errors import DrvtapeError
from drvtape.recorder.ingest import Tape, TapeSession, parse_tape, read_tape
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions

INGESTED, ALREADY = "ingested", "already ingested"


class Unfinished(str, Enum):
    unknown = "unknown"
    hang = "hang"


@dataclass(frozen=True)
class Ingested:
    """One session of one tape, and what ingesting it did."""
    tape: Tape
    session: TapeSession
    status: str
    stored_events: int | None  # the events the database held for it before; None: it was not there


def _read(path: str, unfinished: Unfinished) -> Tape:
    if path != STDIO:
        return read_tape(path, unfinished=unfinished.value)
    data, source = read_input(path)
    return parse_tape(data, source, unfinished=unfinished.value)


def _stored_events(store: Store, session: TapeSession) -> int | None:
    """How many events the database holds for this session; None when it is not there."""
    stored = store.find(session.header.id)
    return None if stored is None else store.summary(stored.pk).events


def ingest_tapes(store: Store, tapes: list[Tape]) -> list[Ingested]:
    """Store the sessions of TAPES not already in the database (also used by `tap run`)."""
    done: list[Ingested] = []
    stored: dict[str, int | None] = {}
    for tape in tapes:
        for s in tape.sessions:
            key = str(s.header.id)
            first = key not in stored
            if first:
                stored[key] = _stored_events(store, s)
            new = first and stored[key] is None
            done.append(Ingested(tape, s, INGESTED if new else ALREADY, stored[key]))
    new = [d.session for d in done if d.status == INGESTED]
    store.import_sessions([(s.header, s.events) for s in new], {k: v for s in new for k, v in s.blobs.items()})
    return done


def _session_json(d: Ingested) -> dict:
    s = d.session
    return {
        "session": str(s.header.id), "status": d.status, "driver": s.header.driver, "process": s.header.process,
        "pid": s.header.pid, "machine": s.header.machine, "calls": s.calls, "events": len(s.events),
        "end_reason": s.end.reason.value, "call_seq": s.end.call_seq, "detail": s.end.detail,
        "handled_exceptions": s.handled_exceptions, "stored_events": d.stored_events,
    }


def _print_json(tapes: list[Tape], done: list[Ingested]) -> None:
    print_json({
        "tapes": [{"path": tape.source, "problems": [p.to_json() for p in tape.problems],
                   "sessions": [_session_json(d) for d in done if d.tape is tape]} for tape in tapes],
        "ingested": sum(d.status == INGESTED for d in done),
        "skipped": sum(d.status == ALREADY for d in done),
    })


def _print_lines(d: Ingested) -> None:
    s, source = d.session, d.tape.source
    if d.status == ALREADY:
        out.print(f"{source}: session {s.header.id} already ingested, skipped", markup=False)
        if d.stored_events is not None and d.stored_events != len(s.events):
            err.print(f"warning: {source}: the tape now gives {len(s.events)} events for session "
                      f"{s.header.id}, the database has {d.stored_events} (was it ingested while still being "
                      "written?)", markup=False)
        return
    ending = s.end.reason.value + (f" at seq {s.end.call_seq}" if s.end.call_seq else "")
    out.print(f"{source}: session {s.header.id} ingested: {s.calls} calls, {len(s.events)} events "
              f"of {s.header.driver} in pid {s.header.pid}; ended: {ending}"
              + (f" ({s.end.detail})" if s.end.detail else ""), markup=False)


@app.command(epilog=examples(
    "drvtape ingest player.4242.drvtape",
    "drvtape ingest --unfinished hang *.drvtape --json",
    "cat player.4242.drvtape | drvtape ingest -",
))
def ingest(
    ctx: typer.Context,
    tapes: list[str] = typer.Argument(..., metavar="TAPE", help="Tape files written by drvtap; - reads stdin.",
                                      show_default=False),
    unfinished: Unfinished = typer.Option(
        Unfinished.unknown, metavar="unknown|hang",
        help="How to end a session whose calls never returned and whose process left no end record: unknown, "
             "or hang (the process was killed because it hung)."),
    quiet: bool = QUIET,
    fmt: Format = FORMAT,
    as_json: bool = JSON,
) -> None:
    """Store the sessions of drvtap tapes; damage is reported and the intact records kept."""
    fmt = output_format(fmt, as_json)
    if tapes.count(STDIO) > 1:
        raise DrvtapeError("stdin (-) can be read once")
    parsed: list[Tape] = []
    with progress("reading tapes", len(tapes), quiet=quiet) as bar:
        task = bar.add_task("read", total=len(tapes))
        for path in tapes:
            parsed.append(_read(path, unfinished))
            bar.advance(task)
    with open_store(ctx, create=True) as store:
        end_orphaned_sessions(store)
        done = ingest_tapes(store, parsed)
    print_ingested(fmt, parsed, done)


def print_ingested(fmt: Format, parsed: list[Tape], done: list[Ingested]) -> None:
    """What ingest_tapes did, in FMT; the tapes' problems as warnings on stderr."""
    if fmt is Format.JSON:  # the document holds the problems
        _print_json(parsed, done)
        return
    for tape in parsed:
        for problem in tape.problems:
            err.print(f"warning: {tape.source}: {problem.detail}", markup=False)
    if fmt is Format.TABLE:
        for d in done:
            _print_lines(d)
    else:
        print_records(fmt, done, RecordView(
            headers=("path", "session", "status", "calls", "events", "end_reason"),
            document=lambda d: {"path": d.tape.source, **_session_json(d)},
            cells=lambda d: [d.tape.source, str(d.session.header.id), d.status, d.session.calls,
                             len(d.session.events), d.session.end.reason.value],
        ))


def store_program_tapes(ctx: typer.Context, fmt: Format, tapes: list[Tape], folder: Path) -> None:
    """What `tap run` and `hook run` do once the program ended: end the sessions their
    recorders left open, ingest every tape, remove the run's folder (every session of its
    tapes is stored) and print the sessions."""
    with open_store(ctx, create=True) as store:
        end_orphaned_sessions(store)
        done = ingest_tapes(store, tapes)
    shutil.rmtree(folder, ignore_errors=True)
    print_ingested(fmt, tapes, done)
