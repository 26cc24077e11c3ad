"""Views for people reading a drvtape database with their own tools (sqlite3, sqlite-utils,
Datasette, psql): `events_view` and `sessions_view`, names and hex where the tables hold numbers.

drvtape itself never reads them. `create` makes them in a new database and in schema
migration 0004; a later change to a view is a migration that drops and creates it again.

Message names come from the `message_names` table (filled here from the DRV_* catalog) and,
for codes it does not hold, from the rules of drvtape.schema.messages.message_name
(DRV_USER+n, DRV_MCI_FIRST+n, 0x000D). Its `driver_class` column is the seam for the names a
driver class gives its own messages (ICM_*, ACMDM_*): rows with driver_class '' apply to
every driver, and class-aware rows can be added beside them, for a view that knows a
session's class to prefer (sessions do not record their class yet).

Hex columns show the 64 bits of the value (thread, dwDriverId, hdrvr, lParams, result), as
`0x` and upper-case digits; times are ISO-8601 UTC with microseconds (an event's is its
session's start plus its ts_ns).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from drvtape.schema.messages import CATALOG, DRV_MCI_FIRST, DRV_MCI_LAST, DRV_USER
from drvtape.schema.rows import CALL, END, FAULT, KIND_NAMES
from drvtape.store import tables as t

GENERIC_CLASS = ""  # message_names.driver_class of the names every driver shares
NAMES = ("events_view", "sessions_view")


class _Dialect:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, name: str):
        self.sqlite = name == "sqlite"

    def hex64(self, x: str) -> str:
        # SQLite's %X and PostgreSQL's to_hex(bigint) both print a negative BIGINT's 64 bits
        digits = f"printf('%X', {x})" if self.sqlite else f"upper(to_hex({x}))"
        return f"CASE WHEN {x} IS NULL THEN NULL ELSE '0x' || {digits} END"

    def hex4(self, x: str) -> str:
        return f"printf('0x%04X', {x})" if self.sqlite else f"'0x' || lpad(upper(to_hex({x})), 4, '0')"

    def iso(self, micros: str) -> str:
        if self.sqlite:
            return (f"strftime('%Y-%m-%dT%H:%M:%S', ({micros}) / 1000000, 'unixepoch') "
                    f"|| printf('.%06dZ', ({micros}) % 1000000)")
        return (f"to_char(TIMESTAMP 'epoch' + ({micros}) * INTERVAL '1 microsecond', "
                f"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')" if self.sqlite else f"(({column})::json ->> '{key}')"


def _message_name(d: _Dialect, msg: str) -> str:
    """message_name's rules for codes message_names does not hold (drvtape.schema.messages)."""
    return (f"CASE WHEN {msg} IS NULL THEN NULL "
            f"WHEN {msg} = {DRV_USER} THEN 'DRV_USER' "
            f"WHEN {msg} > {DRV_USER} THEN 'DRV_USER+' || ({msg} - {DRV_USER}) "
            f"WHEN {msg} = {DRV_MCI_LAST} THEN 'DRV_MCI_LAST' "
            f"WHEN {msg} = {DRV_MCI_FIRST} THEN 'DRV_MCI_FIRST' "
            f"WHEN {msg} > {DRV_MCI_FIRST} AND {msg} < {DRV_MCI_LAST} THEN 'DRV_MCI_FIRST+' || ({msg} - {DRV_MCI_FIRST}) "
            f"ELSE {d.hex4(msg)} END")


def _events_view(d: _Dialect) -> str:
    kinds = " ".join(f"WHEN {code} THEN '{name}'" for code, name in KIND_NAMES.items())
    return f"""CREATE VIEW events_view AS
SELECT s.uuid AS session, e.seq, CASE e.kind {kinds} END AS kind,
       {d.iso('s.started_us + e.ts_ns / 1000')} AS time,
       {d.hex64('e.thread')} AS thread,
       COALESCE(n.name, {_message_name(d, 'e.msg')}) AS message, e.msg,
       {d.hex64('e.driver_id')} AS driver_id, {d.hex64('e.hdrvr')} AS hdrvr,
       {d.hex64('e.lparam1')} AS lparam1, {d.hex64('e.lparam2')} AS lparam2, {d.hex64('e.result')} AS result,
       e.call_seq, e.depth, e.duration_ns, e.ts_ns, e.payload AS detail
FROM events e
JOIN sessions s ON s.pk = e.session_pk
LEFT JOIN message_names n ON n.driver_class = '{GENERIC_CLASS}' AND n.code = e.msg"""


def _sessions_view(d: _Dialect) -> str:
    reason = d.json_text("en.payload", "reason")
    return f"""CREATE VIEW sessions_view AS
SELECT session, started, driver, target, machine,
       CASE WHEN fault_seq IS NOT NULL THEN 'fault at seq ' || fault_seq
            WHEN end_reason = 'hang' THEN 'hang at seq ' || hang_seq
            WHEN end_reason IS NULL THEN 'open' ELSE 'completed' END AS outcome,
       events, calls, threads, end_reason, end_detail, fault_seq, hang_seq,
       driver_hash, os, process, pid, source, origin
FROM (
  SELECT s.uuid AS session, {d.iso('s.started_us')} AS started, s.driver, s.target, s.machine,
         COALESCE(c.events, 0) AS events, COALESCE(c.calls, 0) AS calls, COALESCE(c.threads, 0) AS threads,
         {reason} AS end_reason, {d.json_text('en.payload', 'detail')} AS end_detail,
         f.call_seq AS fault_seq, CASE WHEN {reason} = 'hang' THEN en.call_seq END AS hang_seq,
         s.driver_hash, s.os, s.process, s.pid, s.source, s.origin
  FROM sessions s
  LEFT JOIN (SELECT session_pk, COUNT(*) AS events, SUM(CASE WHEN kind = {CALL} THEN 1 ELSE 0 END) AS calls,
                    COUNT(DISTINCT CASE WHEN kind = {CALL} THEN thread END) AS threads
             FROM events GROUP BY session_pk) c ON c.session_pk = s.pk
  LEFT JOIN events f ON f.session_pk = s.pk
       AND f.seq = (SELECT MIN(seq) FROM events WHERE session_pk = s.pk AND kind = {FAULT})
  LEFT JOIN events en ON en.session_pk = s.pk
       AND en.seq = (SELECT MAX(seq) FROM events WHERE session_pk = s.pk AND kind = {END})
) summary"""


def create(conn: Connection) -> None:
    """Fill message_names and create the views (on SQLite and PostgreSQL; another engine gets
    the table only)."""
    conn.execute(t.message_names.insert(), [
        {"driver_class": GENERIC_CLASS, "code": code, "name": info.name} for code, info in sorted(CATALOG.items())])
    if conn.dialect.name not in ("sqlite", "postgresql"):
        return
    dialect = _Dialect(conn.dialect.name)
    for statement in (_events_view(dialect), _sessions_view(dialect)):
        conn.exec_driver_sql(statement)
