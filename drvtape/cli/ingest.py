"""`drvtape ingest TAPE...`: tapes written by the native tap (native/drvtap) into sessions.

The new sessions of all the tapes are stored in one transaction: all, or (a file that is
not a tape) none. A session already in the database (same id: the
id is derived from the tape's bytes) is reported and skipped, so ingesting a tape twice
does not duplicate it. Damage (a torn last record, a bad CRC in the middle) is reported
with its offset and the intact records are kept; it is not an error (exit 0). A file that
is not a tape at all is (exit 2, nothing written). `--unfinished hang` ends a session whose
calls never returned (no end record: the process was killed) as a hang at the oldest of
them, so that `drvtape replay` with a timeout can reproduce it.

Each tape is read once, mapped, and its sessions stream into that transaction as they are
read (drvtape.recorder.ingest.stream_tape): a tape of any size needs little memory; a file
that turns out not to be a tape rolls it back. Ingest a tape once its process has ended: a
session's id comes from its header and first record, so a tape ingested while still being
written keeps the events it had then (a later ingest says "already ingested" and warns that
the tape has grown).
"""

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path

import typer

from drvtape.cli.app import app, examples, open_store
from drvtape.cli.fresh_store import all_or_nothing_store
from drvtape.cli.options import FORMAT, JSON, QUIET, output_format
from drvtape.cli.output import STDIO, Format, RecordView, err, out, print_json, print_records, progress
from drvtape.errors import DrvtapeError
from drvtape.formats.tape import TapeProblem
from drvtape.recorder.ingest import SessionInfo, Tape, TapeSession, mapped_tape, stream_tape
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import EventRow, event_to_row
from drvtape.store import Store
from drvtape.store.bulk import BulkLoad, Loaded
from drvtape.store.recovery import end_orphaned_sessions

INGESTED, ALREADY = "ingested", "already ingested"


class Unfinished(str, Enum):
    unknown = "unknown"
    hang = "hang"


@dataclass(frozen=True)
class Ingested:
    """One session of one tape, and what ingesting it did."""
    session: SessionInfo
    status: str
    stored_events: int | None  # the events the database held for it before; None: it was not there


@dataclass(frozen=True)
class IngestedTape:
    source: str
    problems: list[TapeProblem]
    sessions: list[Ingested]


def _ingested(info: SessionInfo, loaded: Loaded) -> Ingested:
    return Ingested(info, ALREADY if loaded.already_there else INGESTED, loaded.stored_events)


class _Stored:
    """A session of a tape as it streams into the load (a session already there: only counted)."""

    def __init__(self, load: BulkLoad, header: SessionHeader, done: list[tuple[SessionInfo, Loaded]]):
        self._load, self._done = load, done
        self.loaded = load.begin(header, compare=False)
        self.row: Callable[[EventRow], None] = partial(load.add, self.loaded)  # once per event: no frame of its own
        self.rows: Callable[[Sequence[tuple]], None] = partial(load.add_rows, self.loaded)

    def blob(self, key: str, data: bytes) -> None:
        if self.loaded.pk is not None:  # being stored
            self._load.blob(key, data)

    def close(self, info: SessionInfo) -> None:
        self._load.end(self.loaded)
        self._done.append((info, self.loaded))


def stream_into(load: BulkLoad | None, path: str, unfinished: Unfinished = Unfinished.unknown) -> IngestedTape:
    """One tape into the load (None: only read, for its problems)."""
    done: list[tuple[SessionInfo, Loaded]] = []
    with mapped_tape(path) as (data, source):
        infos, problems = stream_tape(data, source, (lambda h: _Stored(load, h, done)) if load else _Ignored,
                                      unfinished=unfinished.value)
    order = {id(info): i for i, info in enumerate(infos)}  # done is in end order; infos in header order
    return IngestedTape(source, problems, [_ingested(info, loaded) for info, loaded
                                           in sorted(done, key=lambda d: order[id(d[0])])])


class _Ignored:
    def __init__(self, header: SessionHeader):
        pass

    def row(self, row: EventRow) -> None:
        pass

    def rows(self, rows: Sequence[tuple]) -> None:
        pass

    def blob(self, key: str, data: bytes) -> None:
        pass

    def close(self, info: SessionInfo) -> None:
        pass


def ingest_tapes(store: Store, tapes: list[Tape]) -> list[IngestedTape]:
    """Store the sessions of tapes read in memory not already in the database (`tap run`)."""
    with store.bulk_load() as load:
        return [IngestedTape(tape.source, tape.problems, [_store_session(load, s) for s in tape.sessions])
                for tape in tapes]


def _store_session(load: BulkLoad, s: TapeSession) -> Ingested:
    loaded = load.begin(s.header, compare=False)
    if loaded.pk is not None:
        for key, data in s.blobs.items():
            load.blob(key, data)
    for ev in s.events:
        load.add(loaded, event_to_row(ev))
    load.end(loaded)
    return _ingested(SessionInfo(s.header, len(s.events), s.calls, s.end, s.handled_exceptions), loaded)


def _session_json(d: Ingested) -> dict:
    s = d.session
    return {
        "session": str(s.header.id), "status": d.status, "driver": s.header.driver, "process": s.header.process,
        "pid": s.header.pid, "machine": s.header.machine, "calls": s.calls, "events": s.events,
        "end_reason": s.end.reason.value, "call_seq": s.end.call_seq, "detail": s.end.detail,
        "handled_exceptions": s.handled_exceptions, "stored_events": d.stored_events,
    }


def _print_json(tapes: list[IngestedTape]) -> None:
    done = [d for tape in tapes for d in tape.sessions]
    print_json({
        "tapes": [{"path": tape.source, "problems": [p.to_json() for p in tape.problems],
                   "sessions": [_session_json(d) for d in tape.sessions]} for tape in tapes],
        "ingested": sum(d.status == INGESTED for d in done),
        "skipped": sum(d.status == ALREADY for d in done),
    })


def _print_lines(source: str, d: Ingested) -> None:
    s = d.session
    if d.status == ALREADY:
        out.print(f"{source}: session {s.header.id} already ingested, skipped", markup=False)
        if d.stored_events is not None and d.stored_events != s.events:
            err.print(f"warning: {source}: the tape now gives {s.events} events for session "
                      f"{s.header.id}, the database has {d.stored_events} (was it ingested while still being "
                      "written?)", markup=False)
        return
    ending = s.end.reason.value + (f" at seq {s.end.call_seq}" if s.end.call_seq else "")
    out.print(f"{source}: session {s.header.id} ingested: {s.calls} calls, {s.events} events "
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
    done: list[IngestedTape] = []
    with all_or_nothing_store(ctx, lambda: [stream_into(None, path, unfinished) for path in tapes]) as store:
        end_orphaned_sessions(store)
        with progress("ingesting tapes", len(tapes), quiet=quiet) as bar, \
                store.bulk_load() as load:
            task = bar.add_task("ingest", total=len(tapes))
            for path in tapes:
                done.append(stream_into(load, path, unfinished))
                bar.advance(task)
    print_ingested(fmt, done)


def print_ingested(fmt: Format, tapes: list[IngestedTape]) -> None:
    """What ingesting did, in FMT; the tapes' problems as warnings on stderr."""
    if fmt is Format.JSON:  # the document holds the problems
        _print_json(tapes)
        return
    for tape in tapes:
        for problem in tape.problems:
            err.print(f"warning: {tape.source}: {problem.detail}", markup=False)
    if fmt is Format.TABLE:
        for tape in tapes:
            for d in tape.sessions:
                _print_lines(tape.source, d)
    else:
        print_records(fmt, [(tape.source, d) for tape in tapes for d in tape.sessions], RecordView(
            headers=("path", "session", "status", "calls", "events", "end_reason"),
            document=lambda item: {"path": item[0], **_session_json(item[1])},
            cells=lambda item: [item[0], str(item[1].session.header.id), item[1].status, item[1].session.calls,
                                item[1].session.events, item[1].session.end.reason.value],
        ))


def store_program_tapes(ctx: typer.Context, fmt: Format, tapes: list[Tape], folder: Path) -> None:
    """What `tap run` and `hook run` do once the program ended: end the sessions their
    recorders left open, ingest every tape, remove the run's folder (every session of its
    tapes is stored) and print the sessions."""
    with open_store(ctx, create=True) as store:
        end_orphaned_sessions(store)
        done = ingest_tapes(store, tapes)
    shutil.rmtree(folder, ignore_errors=True)
    print_ingested(fmt, done)
