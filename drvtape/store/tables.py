"""SQLAlchemy tables and the schema version stored in every drvtape database."""

import sqlalchemy as sa

from drvtape.schema.rows import Kind
from drvtape.store import instance_sql

SCHEMA_VERSION = 11  # 1: first release; 2: events.chain; 3: sessions.header_link, SESSIONS_STORED;
# 4: message_names and the views for other tools (drvtape.store.views); 5: blobs, sessions.arch;
# 6: two partial indexes on events instead of three whole ones (issue 16: they were 51% of the file);
# 7: events.entry_point (issue 13: device entry points);
# 8: thread_counts (issue 16: `sessions` counted every event of every session it listed)
# 9: message_names per driver class, views read damaged details as NULL
# 10: message_names and events_view of device entry points and MCI, the instances' partial indexes
# 11: ix_events_endings covers a session's first fault and last end (issue 16: `sessions`)
# drvtape_meta key: how many sessions were ever stored here (a removed session leaves it higher)
SESSIONS_STORED = "sessions_stored"
APPLICATION = "drvtape"
# drvtape_meta keys "copying:<session uuid>": a copy (push, pull) of that session is not whole
# yet or has no end yet; orphan recovery leaves it to the copy (drvtape.store.sync)
COPYING = "copying:"

metadata = sa.MetaData()

meta = sa.Table(
    "drvtape_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uuid", sa.String(36), nullable=False, unique=True),
    sa.Column("driver", sa.String(4096), nullable=False),
    sa.Column("driver_hash", sa.String(128)),
    sa.Column("target", sa.String(4096)),
    sa.Column("machine", sa.String(256), nullable=False),
    sa.Column("os", sa.String(256), nullable=False),
    sa.Column("process", sa.String(1024), nullable=False),
    sa.Column("pid", sa.BigInteger),
    sa.Column("recorder_version", sa.String(64), nullable=False),
    sa.Column("started_us", sa.BigInteger, nullable=False),  # Unix time in microseconds, UTC
    sa.Column("clock", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(36)),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("header_link", sa.LargeBinary(16)),  # the header's link (drvtape.store.chain.header_link)
    sa.Column("arch", sa.String(8)),  # x64/x86: the layouts of captured memory; NULL: x64
    sa.Index("ix_sessions_started", "started_us"),
    sa.Index("ix_sessions_machine", "machine"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("session_pk", sa.Integer, sa.ForeignKey("sessions.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.SmallInteger, nullable=False),
    sa.Column("ts_ns", sa.BigInteger, nullable=False),
    sa.Column("thread", sa.BigInteger, nullable=False),
    sa.Column("msg", sa.BigInteger),
    sa.Column("driver_id", sa.BigInteger),
    sa.Column("hdrvr", sa.BigInteger),
    sa.Column("lparam1", sa.BigInteger),
    sa.Column("lparam2", sa.BigInteger),
    sa.Column("result", sa.BigInteger),
    sa.Column("call_seq", sa.BigInteger),
    sa.Column("depth", sa.Integer),
    sa.Column("duration_ns", sa.BigInteger),
    sa.Column("payload", sa.Text),
    # which entry point got the call (drvtape.schema.entry_points' code); NULL: DriverProc
    sa.Column("entry_point", sa.SmallInteger),
    sa.Column("chain", sa.LargeBinary(16)),  # this event's link in the session's hash chain
    # also one session's events, of any message: a session is a range of this key
    sa.PrimaryKeyConstraint("session_pk", "seq", name="pk_events"),
)

# The two partial indexes' predicates (schema version 6), kind written into the SQL as a
# literal: SQLite uses a partial index only for a query whose WHERE holds the index's own
# terms, and a bound parameter never matches one. Queries that want an index use these.
IS_CALL = events.c.kind == sa.literal_column(str(int(Kind.CALL)))
IS_ENDING = events.c.kind.in_([sa.literal_column(str(int(Kind.FAULT))), sa.literal_column(str(int(Kind.END)))])


def _partial_index(name: str, *columns, where) -> None:
    """An index of the events where `where` holds, on SQLite and PostgreSQL (other engines
    index every event)."""
    sa.Index(name, *columns, sqlite_where=where, info={"where": where})


@sa.event.listens_for(events, "before_create")
def _postgresql_predicates(table: sa.Table, connection, **_) -> None:
    """The partial indexes' predicates for PostgreSQL, given as the table is created there:
    postgresql_where= in sa.Index loads SQLAlchemy's PostgreSQL dialect in every command
    (38 ms of `drvtape sessions`' start-up, python -X importtime)."""
    if connection.dialect.name == "postgresql":
        for index in table.indexes:
            if "where" in index.info:
                index.dialect_kwargs["postgresql_where"] = index.info["where"]


# which sessions got a message, across the whole history (calls only: half the events)
_partial_index("ix_events_calls_msg", events.c.msg, events.c.session_pk, where=IS_CALL)
# faults and ends of sessions: a few per session, each with what a session's summary reads
_partial_index("ix_events_endings", events.c.session_pk, events.c.kind, events.c.seq, events.c.call_seq,
               where=IS_ENDING)
# DriverProc's DRV_OPEN returns and DRV_CLOSE calls, one entry per instance: which instance an
# event went to, and so its class (schema version 10: drvtape.store.instance_sql)
IS_OPENED = sa.text(instance_sql.OPENED.format(""))
IS_CLOSING = sa.text(instance_sql.CLOSING.format(""))
_partial_index("ix_events_opened", events.c.session_pk, events.c.result, events.c.seq, where=IS_OPENED)
_partial_index("ix_events_closing", events.c.session_pk, events.c.driver_id, events.c.seq, where=IS_CLOSING)

# Each session's events and calls per thread, kept in the transaction that inserts the events
# (drvtape.store.session_summary): a session's summary without reading its events.
thread_counts = sa.Table(
    "thread_counts",
    metadata,
    sa.Column("session_pk", sa.Integer, sa.ForeignKey("sessions.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("thread", sa.BigInteger, nullable=False),  # as events.thread: unsigned ids stored signed
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("session_pk", "thread", name="pk_thread_counts"),
)

# The bytes of captured memory blocks, once per content: events name them by sha256 in their
# payload (drvtape.schema.details), shared by every session that captured the same bytes.
blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# names of message codes, for the views (drvtape.store.views); driver_class '' is every driver's
message_names = sa.Table(
    "message_names",
    metadata,
    sa.Column("driver_class", sa.String(64), primary_key=True),
    sa.Column("code", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
)
