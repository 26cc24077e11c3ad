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

from enum import Enum

import typer

from drvtape.cli.app import QUIET, app, open_store
from drvtape.cli.render import err, out, print_json, progress
from drvtape.errors import DrvtapeError
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions
from drvtape.recorder.ingest import Tape, TapeSession, read_tape


class Unfinished(str, Enum):
    unknown = "unknown"
    hang = "hang"


def _stored_events(store: Store, session: TapeSession) -> int | None:
    """How many events the database holds for this session; None when it is not there."""
    try:
        stored = store.resolve(str(session.header.id))
    except DrvtapeError:
        return None
    return store.summary(stored.pk).events


def _session_json(s: TapeSession, status: str, stored: int | None) -> dict:
    return {
        "session": str(s.header.id), "status": status, "driver": s.header.driver, "process": s.header.process,
        "pid": s.header.pid, "machine": s.header.machine, "calls": s.calls, "events": len(s.events),
        "end_reason": s.end.reason.value, "call_seq": s.end.call_seq, "detail": s.end.detail,
        "handled_exceptions": s.handled_exceptions, "stored_events": stored,
    }


@app.command()
def ingest(
    ctx: typer.Context,
    tapes: list[str] = typer.Argument(..., metavar="TAPE...", help="tape files written by drvtap"),
    unfinished: Unfinished = typer.Option(
        Unfinished.unknown, help="how to end a session whose calls never returned and whose process left no end "
                                 "record: unknown, or hang (the process was killed because it hung)"),
    quiet: bool = QUIET,
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
) -> None:
    """Store the sessions of drvtap tapes; damage is reported and the intact records kept."""
    parsed: list[Tape] = []
    seen: set[str] = set()
    with progress("reading tapes", len(tapes), quiet=quiet) as bar:
        task = bar.add_task("read", total=len(tapes))
        for path in tapes:
            parsed.append(read_tape(path, unfinished=unfinished.value))
            bar.advance(task)
    statuses: list[list[str]] = []
    stored_counts: dict[str, int | None] = {}
    new = []
    with open_store(ctx, create=True) as store:
        end_orphaned_sessions(store)
        for tape in parsed:
            row = []
            for s in tape.sessions:
                key = str(s.header.id)
                if key not in stored_counts:
                    stored_counts[key] = _stored_events(store, s)
                if key in seen or stored_counts[key] is not None:
                    row.append("already ingested")
                else:
                    seen.add(key)
                    new.append((s.header, s.events))
                    row.append("ingested")
            statuses.append(row)
        store.import_sessions(new)
    if as_json:
        print_json({
            "tapes": [{"path": tape.source, "problems": [p.to_json() for p in tape.problems],
                       "sessions": [_session_json(s, st, stored_counts[str(s.header.id)])
                                    for s, st in zip(tape.sessions, row)]}
                      for tape, row in zip(parsed, statuses)],
            "ingested": len(new),
            "skipped": sum(row.count("already ingested") for row in statuses),
        })
        return
    for tape, row in zip(parsed, statuses):
        for problem in tape.problems:
            err.print(f"warning: {tape.source}: {problem.detail}", markup=False)
        for s, status in zip(tape.sessions, row):
            if status != "ingested":
                out.print(f"{tape.source}: session {s.header.id} already ingested, skipped", markup=False)
                stored = stored_counts[str(s.header.id)]
                if stored is not None and stored != len(s.events):
                    err.print(f"warning: {tape.source}: the tape now gives {len(s.events)} events for session "
                              f"{s.header.id}, the database has {stored} (was it ingested while still being "
                              "written?)", markup=False)
                continue
            ending = s.end.reason.value + (f" at seq {s.end.call_seq}" if s.end.call_seq else "")
            out.print(f"{tape.source}: session {s.header.id} ingested: {s.calls} calls, {len(s.events)} events "
                      f"of {s.header.driver} in pid {s.header.pid}; ended: {ending}"
                      + (f" ({s.end.detail})" if s.end.detail else ""), markup=False)
