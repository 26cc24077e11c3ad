"""The event store: the only module that speaks SQL.

A SQLite file by default (WAL), any SQLAlchemy URL by configuration. Events are appended,
never updated; everything else is read from them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from drvtape.errors import DrvtapeError
from drvtape.store.processes import process_alive
from drvtape.store import chain
from drvtape.store import tables as t
from drvtape.schema.events import EndReason, Event, SessionHeader
from drvtape.schema.rows import ROW_COLUMNS, Kind, event_to_row, row_to_event
from drvtape.schema.values import INT64_MAX, as_unsigned64

DEFAULT_DB = "drvtape.db"
_UNSIGNED_COLUMNS = tuple(ROW_COLUMNS.index(c) + 1 for c in ("thread", "driver_id", "hdrvr"))
_SELECT_COLUMNS = [t.events.c[name] for name in ROW_COLUMNS]
_INSERT_NAMES = ("session_pk", *ROW_COLUMNS, "chain")


def database_url(path_or_url: str | os.PathLike | None) -> str:
    """A SQLAlchemy URL from --db: URLs pass through, anything else is a SQLite file path."""
    value = os.fspath(path_or_url or os.environ.get("DRVTAPE_DB") or DEFAULT_DB)
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def sqlite_path(url: str) -> Path | None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _tune_sqlite(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _to_db_rows(session_pk: int, rows: Sequence[Sequence], tip: bytes) -> tuple[list[tuple], bytes]:
    """Rows as stored: the session key first, unsigned values as signed bits, the chain link last.

    Written as comprehensions around one sequential loop: this is the append hot path.
    """
    links = []
    for text in [chain.canonical(row) for row in rows]:
        tip = chain.next_link(tip, text)
        links.append(tip)
    return [(session_pk, *row, link) if row[3] <= INT64_MAX and (row[5] or 0) <= INT64_MAX
            and (row[6] or 0) <= INT64_MAX else _signed_row(session_pk, row, link)
            for row, link in zip(rows, links)], tip


def _signed_row(session_pk: int, row: Sequence, link: bytes) -> tuple:
    return (session_pk, *(_signed(v) if i + 1 in _UNSIGNED_COLUMNS and v is not None else v
                          for i, v in enumerate(row)), link)


def _from_db_row(row: Sequence) -> tuple:
    # row is in ROW_COLUMNS order (no session_pk)
    if any(row[i - 1] is not None and row[i - 1] < 0 for i in _UNSIGNED_COLUMNS):
        row = tuple(as_unsigned64(v) if i + 1 in _UNSIGNED_COLUMNS and v is not None else v
                    for i, v in enumerate(row))
    return tuple(row)


@dataclass(frozen=True)
class StoredSession:
    pk: int
    header: SessionHeader


@dataclass(frozen=True)
class SessionSummary:
    pk: int
    header: SessionHeader
    events: int
    calls: int
    threads: int
    end_reason: EndReason | None
    fault_seq: int | None
    hang_seq: int | None


@dataclass(frozen=True)
class EventFilter:
    """What `drvtape events` can ask for; every value is bound as a parameter, never spliced."""

    msgs: tuple[int, ...] = ()
    kinds: tuple[Kind, ...] = ()
    threads: tuple[int, ...] = ()
    from_seq: int | None = None
    to_seq: int | None = None
    from_ts_ns: int | None = None
    to_ts_ns: int | None = None
    results: tuple[int, ...] = ()
    limit: int | None = None


class Appender:
    """Commits one event at a time on its own connection: for the recorder's durable modes.

    With fsync, SQLite syncs the WAL at each commit (synchronous=FULL): the event survives
    the machine going down. Without, the commit is written to the OS (synchronous=NORMAL in
    WAL mode): it survives the process dying.
    """

    def __init__(self, store: Store, session_pk: int, fsync: bool):
        self._store = store
        self._pk = session_pk
        self._sql = store._insert_sql
        self._names = None if store._positional else _INSERT_NAMES
        # One statement per commit: SQLAlchemy's per-execute work cost more than the commit
        # itself (45 vs 14 us per event), so this path uses the DBAPI connection it hands out.
        self._conn = store.engine.raw_connection()
        self._cursor = self._conn.cursor()
        if store.engine.dialect.name == "sqlite":
            self._cursor.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'NORMAL'}")
            self._conn.commit()

    def append(self, row: Sequence) -> None:
        (values,), tip = _to_db_rows(self._pk, [row], self._store._tip(self._pk))
        self._cursor.execute(self._sql, values if self._names is None else dict(zip(self._names, values)))
        self._conn.commit()
        self._store._tips[self._pk] = tip

    def close(self) -> None:
        self._cursor.close()
        self._conn.close()


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert_sql = str(t.events.insert().compile(dialect=engine.dialect))
        self._positional = engine.dialect.positional
        self._tips: dict[int, bytes] = {}  # the last chain link of each session this store appended to

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path_or_url: str | os.PathLike | None = None, *, create: bool = False) -> Store:
        """Open a drvtape database. create=True makes a new one where there is none."""
        url = database_url(path_or_url)
        path = sqlite_path(url)
        if path is not None:
            if path.is_dir():
                raise DrvtapeError(f"{path} is a directory, not a drvtape database")
            if not path.exists():
                if not create:
                    raise DrvtapeError(f"no drvtape database at {path} (record or import a session first, or pass --db)")
                if not path.parent.is_dir():
                    raise DrvtapeError(f"cannot create {path}: folder {path.parent} does not exist")
        try:
            engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise DrvtapeError(f"cannot use database URL {url!r}: {exc}") from None
        if path is not None:
            sa_event.listen(engine, "connect", _tune_sqlite)
        store = cls(engine)
        try:
            store._check_or_create(create, path)
            store._end_orphaned_sessions()
        except sa.exc.DatabaseError as exc:
            engine.dispose()
            where = path if path is not None else url
            raise DrvtapeError(f"{where} is not a usable drvtape database: {_first_line(exc)}") from None
        except DrvtapeError:
            engine.dispose()
            raise
        return store

    def _check_or_create(self, create: bool, path: Path | None) -> None:
        with self.engine.begin() as conn:
            names = set(sa.inspect(conn).get_table_names())
            if t.meta.name not in names:
                if names or not create:
                    raise DrvtapeError(f"{path or self.engine.url} is not a drvtape database")
                if path is not None:
                    conn.exec_driver_sql("PRAGMA journal_mode = WAL")
                t.metadata.create_all(conn)
                conn.execute(t.meta.insert(), [
                    {"key": "application", "value": t.APPLICATION},
                    {"key": "schema_version", "value": str(t.SCHEMA_VERSION)},
                ])
                return
            version = schema_version(conn, path or self.engine.url)
        if version < t.SCHEMA_VERSION:
            where = path or self.engine.url
            raise DrvtapeError(
                f"the database has schema version {version}, older than this drvtape's ({t.SCHEMA_VERSION}): "
                f"run 'drvtape --db {where} db upgrade' (it keeps a backup)"
            )

    def _end_orphaned_sessions(self) -> None:
        """Give an end event to sessions whose recording process on this machine is gone.

        A killed recorder cannot write its own end; without this the session would look open
        forever. The end says what is known: a fault last means the driver crashed the
        process; otherwise the reason is unknown (SIGKILL, power, a native crash).
        """
        s, e = t.sessions, t.events
        ended = sa.select(e.c.session_pk).where(e.c.kind == Kind.END)
        query = sa.select(s.c.pk, s.c.pid).where(s.c.machine == platform.node(), s.c.pid.is_not(None),
                                                 s.c.pid != os.getpid(), s.c.pk.not_in(ended))
        with self.engine.connect() as conn:
            orphans = [(pk, pid) for pk, pid in conn.execute(query) if not process_alive(pid)]
        for pk, pid in orphans:
            with self.engine.begin() as conn:
                last = conn.execute(sa.select(e.c.seq, e.c.ts_ns, e.c.kind, e.c.call_seq).where(e.c.session_pk == pk)
                                    .order_by(e.c.seq.desc()).limit(1)).first()
                if conn.execute(sa.select(e.c.seq).where(e.c.session_pk == pk, e.c.kind == Kind.END)).first():
                    continue  # another process ended it meanwhile
                crashed = last is not None and last.kind == Kind.FAULT
                detail = {"reason": (EndReason.CRASH if crashed else EndReason.UNKNOWN).value,
                          "detail": f"the recording process (pid {pid}) ended without closing the session; "
                                    "ended when the database was next opened"}
                rows, _ = _to_db_rows(pk, [(
                    (last.seq if last else 0) + 1, Kind.END, last.ts_ns if last else 0, 0, None, None, None,
                    None, None, None, last.call_seq if crashed else None, None, None, json.dumps(detail))],
                    self._tip(pk, conn))
                self._insert_rows(conn, rows)
            self._tips.pop(pk, None)

    def appender(self, session_pk: int, *, fsync: bool) -> Appender:
        return Appender(self, session_pk, fsync)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------------

    def begin_session(self, header: SessionHeader) -> int:
        """Store a session header; returns the key that append_rows takes."""
        with self.engine.begin() as conn:
            return self._insert_header(conn, header)

    def _insert_header(self, conn, header: SessionHeader) -> int:
        values = header.model_dump(mode="json")
        values["uuid"] = values.pop("id")
        values["started_us"] = _to_micros(header.started_at)
        del values["started_at"]
        exists = conn.execute(sa.select(t.sessions.c.pk).where(t.sessions.c.uuid == values["uuid"])).first()
        if exists:
            raise DrvtapeError(f"session {values['uuid']} is already in the database")
        return conn.execute(t.sessions.insert().values(**values)).inserted_primary_key[0]

    def append_rows(self, session_pk: int, rows: Iterable[Sequence]) -> None:
        """Append event rows (ROW_COLUMNS order) in one transaction: the recorder's hot path."""
        rows = list(rows)
        if not rows:
            return
        with self.engine.begin() as conn:
            db_rows, tip = _to_db_rows(session_pk, rows, self._tip(session_pk, conn))
            self._insert_rows(conn, db_rows)
        self._tips[session_pk] = tip

    def _tip(self, session_pk: int, conn=None) -> bytes:
        """The last chain link of a session: the genesis link when it has no events yet."""
        tip = self._tips.get(session_pk)
        if tip is not None:
            return tip
        e, s = t.events, t.sessions
        with _using(self.engine, conn) as c:
            last = c.execute(sa.select(e.c.chain).where(e.c.session_pk == session_pk)
                             .order_by(e.c.seq.desc()).limit(1)).scalar()
            if last is None:
                last = chain.genesis(uuid.UUID(c.execute(sa.select(s.c.uuid).where(s.c.pk == session_pk)).scalar_one()))
        return last

    def _insert_rows(self, conn, db_rows: list[tuple]) -> None:
        # A statement compiled by SQLAlchemy, run as one executemany: as fast as raw DBAPI,
        # where Core's dict-per-row path measured 0.2-0.3x of it.
        if not self._positional:
            db_rows = [dict(zip(_INSERT_NAMES, r)) for r in db_rows]
        conn.exec_driver_sql(self._insert_sql, db_rows)

    def import_sessions(self, sessions: Iterable[tuple[SessionHeader, Sequence[Event]]]) -> list[uuid.UUID]:
        """Store whole sessions in one transaction: all of them, or nothing."""
        stored = []
        with self.engine.begin() as conn:
            for header, events in sessions:
                pk = self._insert_header(conn, header)
                rows, _ = _to_db_rows(pk, [event_to_row(ev) for ev in events], chain.genesis(header.id))
                if rows:
                    self._insert_rows(conn, rows)
                stored.append(header.id)
        return stored

    # ---- reading -------------------------------------------------------------------------

    def resolve(self, ref: str) -> StoredSession:
        """A session by full UUID, unique prefix of it, or `last`."""
        s = t.sessions
        text = ref.strip().lower()
        if text == "last":  # the session stored most recently (recorded, imported or ingested)
            query = sa.select(s).order_by(s.c.pk.desc()).limit(1)
        elif re.fullmatch(r"[0-9a-f-]{1,36}", text):
            query = sa.select(s).where(s.c.uuid.startswith(text, autoescape=True)).limit(2)
        else:
            raise DrvtapeError(f"{ref!r} is not a session: give a UUID, a unique prefix of one, or 'last'")
        with self.engine.connect() as conn:
            found = conn.execute(query).mappings().all()
        if not found:
            raise DrvtapeError("the database has no sessions" if text == "last" else f"no session matches {ref!r}")
        if len(found) > 1:
            raise DrvtapeError(f"session prefix {ref!r} is ambiguous: give more of the UUID")
        return StoredSession(found[0]["pk"], _header(found[0]))

    def sessions(self, *, machine: str | None = None, driver: str | None = None, with_msg: int | None = None,
                 limit: int | None = None) -> list[SessionSummary]:
        """Session summaries, oldest first; limit keeps the newest."""
        s, e = t.sessions, t.events
        query = sa.select(s).order_by(s.c.started_us.desc(), s.c.pk.desc())
        if machine is not None:
            query = query.where(s.c.machine == machine)
        if driver is not None:
            query = query.where(s.c.driver.contains(driver, autoescape=True))
        if with_msg is not None:
            query = query.where(s.c.pk.in_(
                sa.select(e.c.session_pk).where(e.c.msg == with_msg, e.c.kind == Kind.CALL)))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            headers = conn.execute(query).mappings().all()[::-1]
            return self._summaries(conn, headers)

    def summary(self, session_pk: int) -> SessionSummary:
        with self.engine.connect() as conn:
            headers = conn.execute(sa.select(t.sessions).where(t.sessions.c.pk == session_pk)).mappings().all()
            return self._summaries(conn, headers)[0]

    def _summaries(self, conn, headers) -> list[SessionSummary]:
        e = t.events
        pks = [h["pk"] for h in headers]
        counts, endings = {}, {}
        for chunk in _chunks(pks, 500):
            counts.update({
                row.session_pk: row for row in conn.execute(
                    sa.select(e.c.session_pk, sa.func.count().label("events"),
                              sa.func.sum(sa.case((e.c.kind == Kind.CALL, 1), else_=0)).label("calls"),
                              sa.func.count(sa.distinct(e.c.thread)).label("threads"))
                    .where(e.c.session_pk.in_(chunk)).group_by(e.c.session_pk))
            })
            for row in conn.execute(
                sa.select(e.c.session_pk, e.c.kind, e.c.call_seq, e.c.payload)
                .where(e.c.kind.in_([Kind.FAULT, Kind.END]), e.c.session_pk.in_(chunk))
                .order_by(e.c.session_pk, e.c.seq)
            ):
                endings.setdefault(row.session_pk, []).append(row)
        out = []
        for h in headers:
            c = counts.get(h["pk"])
            reason = fault_seq = hang_seq = None
            for row in endings.get(h["pk"], []):
                if row.kind == Kind.FAULT and fault_seq is None:
                    fault_seq = row.call_seq
                elif row.kind == Kind.END:
                    reason = EndReason(json.loads(row.payload)["reason"])
                    if reason is EndReason.HANG:
                        hang_seq = row.call_seq
            out.append(SessionSummary(
                pk=h["pk"], header=_header(h), events=c.events if c else 0, calls=int(c.calls or 0) if c else 0,
                threads=c.threads if c else 0, end_reason=reason, fault_seq=fault_seq, hang_seq=hang_seq,
            ))
        return out

    def threads(self, session_pk: int) -> list[int]:
        """A session's OS thread ids in order of first appearance."""
        e = t.events
        first = sa.func.min(e.c.seq)
        query = (sa.select(e.c.thread, first).where(e.c.session_pk == session_pk)
                 .group_by(e.c.thread).order_by(first))
        with self.engine.connect() as conn:
            return [as_unsigned64(thread) for thread, _ in conn.execute(query)]

    def call_counts(self, session_pk: int) -> dict[int, int]:
        """How many calls of each message a session received."""
        e = t.events
        query = (sa.select(e.c.msg, sa.func.count()).where(e.c.session_pk == session_pk, e.c.kind == Kind.CALL)
                 .group_by(e.c.msg).order_by(e.c.msg))
        with self.engine.connect() as conn:
            return dict(conn.execute(query).all())

    def rows(self, session_pk: int, flt: EventFilter | None = None) -> list[tuple]:
        """A session's event rows (ROW_COLUMNS order, unsigned values restored), in seq order."""
        e = t.events
        query = sa.select(*_SELECT_COLUMNS).where(e.c.session_pk == session_pk)
        if flt is not None:
            query = _apply_filter(query, flt)
        query = query.order_by(e.c.seq)
        if flt is not None and flt.limit is not None:
            query = query.limit(flt.limit)
        with self.engine.connect() as conn:
            return [_from_db_row(r) for r in conn.execute(query)]

    def events(self, session_pk: int, flt: EventFilter | None = None) -> list[Event]:
        return [row_to_event(r) for r in self.rows(session_pk, flt)]

    def verify(self, session_pk: int) -> list[tuple[int, str]]:
        """Check a session's events against its hash chain: (seq, what is wrong), first first.

        A missing seq means an event was removed; a link that does not match means the event
        at that seq was altered, inserted or moved (every later link then differs too, so only
        the first is reported).
        """
        e, s = t.events, t.sessions
        with self.engine.connect() as conn:
            session_id = conn.execute(sa.select(s.c.uuid).where(s.c.pk == session_pk)).scalar_one()
            stored = conn.execute(sa.select(*_SELECT_COLUMNS, e.c.chain).where(e.c.session_pk == session_pk)
                                  .order_by(e.c.seq)).all()
        problems = []
        tip = chain.genesis(uuid.UUID(session_id))
        for expected_seq, row in enumerate(stored, 1):
            values, link = _from_db_row(row[:-1]), row[-1]
            if values[0] != expected_seq:
                problems.append((expected_seq, f"seq {expected_seq} is missing: an event was removed"))
                break
            tip = chain.link(tip, values)
            if link != tip:
                what = "has no chain link" if link is None else "does not match the hash chain"
                problems.append((values[0], f"seq {values[0]} {what}: altered, inserted or moved"))
                break
        return problems

    def find(self, session_id: uuid.UUID) -> StoredSession | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.sessions).where(t.sessions.c.uuid == str(session_id))).mappings().first()
        return StoredSession(row["pk"], _header(row)) if row else None

    def add_session(self, header: SessionHeader) -> int:
        """Store a header unless a session with its id is here already; its key either way."""
        found = self.find(header.id)
        return found.pk if found else self.begin_session(header)

    def last_link(self, session_pk: int) -> tuple[int, bytes | None]:
        """(the highest seq stored, its chain link); (0, None) for a session with no events."""
        e = t.events
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(e.c.seq, e.c.chain).where(e.c.session_pk == session_pk)
                               .order_by(e.c.seq.desc()).limit(1)).first()
        return (row.seq, row.chain) if row else (0, None)

    def link_at(self, session_pk: int, seq: int) -> bytes | None:
        e = t.events
        with self.engine.connect() as conn:
            return conn.execute(sa.select(e.c.chain).where(e.c.session_pk == session_pk, e.c.seq == seq)).scalar()

    def sessions_with(self, msg: int) -> list[uuid.UUID]:
        """Every session that received a message (a call event for it), oldest first."""
        s, e = t.sessions, t.events
        inner = sa.select(e.c.session_pk).where(e.c.msg == msg, e.c.kind == Kind.CALL).distinct()
        query = sa.select(s.c.uuid).where(s.c.pk.in_(inner)).order_by(s.c.started_us, s.c.pk)
        with self.engine.connect() as conn:
            return [uuid.UUID(u) for (u,) in conn.execute(query)]

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar_one()


def _apply_filter(query, flt: EventFilter):
    e = t.events
    if flt.msgs:
        query = query.where(e.c.msg.in_(flt.msgs))
    if flt.kinds:
        query = query.where(e.c.kind.in_([int(k) for k in flt.kinds]))
    if flt.threads:
        query = query.where(e.c.thread.in_([_signed(v) for v in flt.threads]))
    if flt.from_seq is not None:
        query = query.where(e.c.seq >= flt.from_seq)
    if flt.to_seq is not None:
        query = query.where(e.c.seq <= flt.to_seq)
    if flt.from_ts_ns is not None:
        query = query.where(e.c.ts_ns >= flt.from_ts_ns)
    if flt.to_ts_ns is not None:
        query = query.where(e.c.ts_ns <= flt.to_ts_ns)
    if flt.results:
        query = query.where(e.c.kind == Kind.RETURN, e.c.result.in_(flt.results))
    return query


def schema_version(conn, where) -> int:
    """The drvtape schema version of a database; refuses one that is not drvtape's or too new."""
    meta = dict(conn.execute(sa.select(t.meta.c.key, t.meta.c.value)).all())
    if meta.get("application") != t.APPLICATION:
        raise DrvtapeError(f"{where} is not a drvtape database")
    version = meta.get("schema_version", "")
    if not version.isdigit():
        raise DrvtapeError(f"unknown drvtape schema version {version!r} in {where}")
    if int(version) > t.SCHEMA_VERSION:
        raise DrvtapeError(f"the database has schema version {version}, newer than this drvtape knows "
                           f"({t.SCHEMA_VERSION}): upgrade drvtape to read it")
    return int(version)


def _signed(value: int) -> int:
    return value - (1 << 64) if value > INT64_MAX else value


@contextmanager
def _using(engine: Engine, conn):
    """conn when given, else a connection of our own for the block."""
    if conn is not None:
        yield conn
    else:
        with engine.connect() as own:
            yield own


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _to_micros(when: datetime) -> int:
    delta = when.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


def _header(row) -> SessionHeader:
    return SessionHeader(
        id=uuid.UUID(row["uuid"]), driver=row["driver"], driver_hash=row["driver_hash"], target=row["target"],
        machine=row["machine"], os=row["os"], process=row["process"], pid=row["pid"],
        recorder_version=row["recorder_version"], started_at=_from_micros(row["started_us"]),
        clock=row["clock"], origin=uuid.UUID(row["origin"]) if row["origin"] else None, source=row["source"],
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
