"""Views for people reading a drvtape database with their own tools (sqlite3, sqlite-utils,
Datasette, psql): `events_view` and `sessions_view`, names and hex where the tables hold numbers.

drvtape itself never reads them. `create` makes them in a new database and in schema
migration 0004; a later change to a view is a migration that drops and creates it again.

Message names come from the `message_names` table and, for codes it does not hold, from
the rules of drvtape.schema.messages.message_name (DRV_USER+n, DRV_MCI_FIRST+n, 0x000D). Its
rows with driver_class '' are the DRV_* names every driver shares (filled from the DRV_*
catalog); rows of a class ('vfw', 'acm') name that class's own messages (ICM_*, ACMDM_*,
from drvtape.schema.memory.catalog). events_view names an event by the class of the
instance it went to, as `drvtape events` does (drvtape.schema.memory.classes): from what the
DRV_OPEN that returned its dwDriverId received (ICOPEN / ACMDRVOPENDESCW fccType), else the
session's Drivers32 alias prefix, from that DRV_OPEN's return up to the instance's DRV_CLOSE.

A stored detail that is not JSON (a database `drvtape verify` calls damaged) reads as NULL
where a view looks inside it, so the views still answer.

Hex columns show the 64 bits of the value (thread, dwDriverId, hdrvr, lParams, result), as
`0x` and upper-case digits; times are ISO-8601 UTC with microseconds (an event's is its
session's start plus its ts_ns).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from drvtape.schema.memory.catalog import class_names
from drvtape.schema.memory.classes import ACM_TYPES, ALIAS_PREFIXES, VFW_TYPES, DriverClass
from drvtape.schema.messages import CATALOG, DRV_CLOSE, DRV_MCI_FIRST, DRV_MCI_LAST, DRV_OPEN, DRV_USER
from drvtape.schema.rows import CALL, END, FAULT, KIND_NAMES, RETURN
from drvtape.store import tables as t

GENERIC_CLASS = ""  # message_names.driver_class of the names every driver shares
NAMED_CLASSES = (DriverClass.VFW, DriverClass.ACM)  # the classes with message_names rows of their own
NAMES = ("events_view", "sessions_view")
# PostgreSQL 15 has no test for valid JSON (IS JSON is 16's): a cast that gives NULL instead
PG_JSON_OR_NULL = """CREATE OR REPLACE FUNCTION drvtape_json(text) RETURNS json LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN $1::json; EXCEPTION WHEN others THEN RETURN NULL; END $$"""


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

    def json_text(self, column: str, *keys: str) -> str:
        """The text at keys of a JSON object column; NULL when absent or the column is not JSON."""
        if self.sqlite:
            return (f"CASE WHEN json_valid({column}) "
                    f"THEN CAST(json_extract({column}, '$.{'.'.join(keys)}') AS TEXT) END")
        path = "".join(f" -> '{k}'" for k in keys[:-1])
        return f"(drvtape_json({column}){path} ->> '{keys[-1]}')"


def _message_name(d: _Dialect, msg: str) -> str:
    """message_name's rules for codes message_names does not hold (drvtape.schema.messages)."""
    return (f"CASE WHEN {msg} IS NULL THEN NULL "
            f"WHEN {msg} = {DRV_USER} THEN 'DRV_USER' "
            f"WHEN {msg} > {DRV_USER} THEN 'DRV_USER+' || ({msg} - {DRV_USER}) "
            f"WHEN {msg} = {DRV_MCI_LAST} THEN 'DRV_MCI_LAST' "
            f"WHEN {msg} = {DRV_MCI_FIRST} THEN 'DRV_MCI_FIRST' "
            f"WHEN {msg} > {DRV_MCI_FIRST} AND {msg} < {DRV_MCI_LAST} THEN 'DRV_MCI_FIRST+' || ({msg} - {DRV_MCI_FIRST}) "
            f"ELSE {d.hex4(msg)} END")


def _in(expr: str, values) -> str:
    listed = ", ".join(f"'{v}'" for v in sorted(values))
    return f"{expr} IN ({listed})"


def _class_of_open(d: _Dialect, payload: str, driver: str) -> str:
    """classes.class_of_open of a DRV_OPEN call's payload, else session_class_hint(driver)."""
    kind, fcc = d.json_text(payload, "lparam2", "type"), d.json_text(payload, "lparam2", "fccType")
    hints = " ".join(f"WHEN substr(lower(trim({driver})), 1, {len(prefix)}) = '{prefix}' THEN '{cls.value}'"
                     for prefix, cls in ALIAS_PREFIXES)
    return (f"CASE WHEN {kind} = 'ICOPEN' AND {_in(fcc, VFW_TYPES)} THEN '{DriverClass.VFW.value}' "
            f"WHEN {kind} = 'ACMDRVOPENDESCW' AND {_in(fcc, ACM_TYPES)} THEN '{DriverClass.ACM.value}' "
            f"{hints} ELSE '{DriverClass.DRV.value}' END")


def _instances(d: _Dialect) -> str:
    """Each instance: its session, dwDriverId and class, from its DRV_OPEN's return (opened)
    up to its DRV_CLOSE call, or to just before a later DRV_OPEN returned the same id (closed;
    NULL: never closed). classes.InstanceClasses, in SQL."""
    return f"""opened AS (
  SELECT r.session_pk, r.result AS driver_id, r.seq AS opened, {_class_of_open(d, 'c.payload', 's.driver')} AS cls
  FROM events r
  JOIN events c ON c.session_pk = r.session_pk AND c.seq = r.call_seq
  JOIN sessions s ON s.pk = r.session_pk
  WHERE r.kind = {RETURN} AND r.msg = {DRV_OPEN} AND r.result <> 0
), instances AS (
  SELECT o.session_pk, o.driver_id, o.cls, o.opened,
         MIN(CASE WHEN x.kind = {RETURN} THEN x.seq - 1 ELSE x.seq END) AS closed
  FROM opened o
  LEFT JOIN events x ON x.session_pk = o.session_pk AND x.seq > o.opened
       AND ((x.kind = {CALL} AND x.msg = {DRV_CLOSE} AND x.driver_id = o.driver_id)
            OR (x.kind = {RETURN} AND x.msg = {DRV_OPEN} AND x.result = o.driver_id))
  GROUP BY o.session_pk, o.driver_id, o.cls, o.opened
)"""


def _events_view(d: _Dialect) -> str:
    kinds = " ".join(f"WHEN {code} THEN '{name}'" for code, name in KIND_NAMES.items())
    return f"""CREATE VIEW events_view AS
WITH {_instances(d)}
SELECT s.uuid AS session, e.seq, CASE e.kind {kinds} END AS kind,
       {d.iso('s.started_us + e.ts_ns / 1000')} AS time,
       {d.hex64('e.thread')} AS thread,
       COALESCE(n.name, g.name, {_message_name(d, 'e.msg')}) AS message, e.msg,
       {d.hex64('e.driver_id')} AS driver_id, {d.hex64('e.hdrvr')} AS hdrvr,
       {d.hex64('e.lparam1')} AS lparam1, {d.hex64('e.lparam2')} AS lparam2, {d.hex64('e.result')} AS result,
       e.call_seq, e.depth, e.duration_ns, e.ts_ns, e.payload AS detail
FROM events e
JOIN sessions s ON s.pk = e.session_pk
LEFT JOIN instances i ON i.session_pk = e.session_pk AND i.driver_id = e.driver_id AND e.seq >= i.opened
     AND (i.closed IS NULL OR e.seq <= i.closed)
LEFT JOIN message_names n ON n.driver_class = i.cls AND n.code = e.msg
LEFT JOIN message_names g ON g.driver_class = '{GENERIC_CLASS}' AND g.code = e.msg"""


def _sessions_view(d: _Dialect) -> str:
    reason = d.json_text("en.payload", "reason")
    return f"""CREATE VIEW sessions_view AS
SELECT session, started, driver, target, machine,
       CASE WHEN fault_seq IS NOT NULL THEN 'fault at seq ' || fault_seq
            WHEN end_reason = 'hang' THEN 'hang at seq ' || hang_seq
            WHEN end_seq IS NULL THEN 'open' ELSE 'completed' END AS outcome,
       events, calls, threads, end_reason, end_detail, fault_seq, hang_seq,
       driver_hash, os, process, pid, source, origin
FROM (
  SELECT s.uuid AS session, {d.iso('s.started_us')} AS started, s.driver, s.target, s.machine,
         COALESCE(c.events, 0) AS events, COALESCE(c.calls, 0) AS calls, COALESCE(c.threads, 0) AS threads,
         {reason} AS end_reason, {d.json_text('en.payload', 'detail')} AS end_detail,
         f.call_seq AS fault_seq, CASE WHEN {reason} = 'hang' THEN en.call_seq END AS hang_seq, en.seq AS end_seq,
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


def name_rows() -> list[dict]:
    """message_names: the DRV_* names under '', and each class's names of its own."""
    generic = {code: info.name for code, info in CATALOG.items()}
    rows = [{"driver_class": GENERIC_CLASS, "code": code, "name": name} for code, name in sorted(generic.items())]
    for cls in NAMED_CLASSES:
        rows += [{"driver_class": cls.value, "code": code, "name": name}
                 for code, name in sorted(class_names(cls).items()) if generic.get(code) != name]
    return rows


def create(conn: Connection) -> None:
    """Fill message_names and create the views (on SQLite and PostgreSQL; another engine gets
    the table only)."""
    conn.execute(t.message_names.insert(), name_rows())
    if conn.dialect.name not in ("sqlite", "postgresql"):
        return
    dialect = _Dialect(conn.dialect.name)
    if not dialect.sqlite:
        conn.exec_driver_sql(PG_JSON_OR_NULL)
    for statement in (_events_view(dialect), _sessions_view(dialect)):
        conn.exec_driver_sql(statement)


def recreate(conn: Connection) -> None:
    """Make message_names and the views again as create makes them (a migration that changes them)."""
    for name in NAMES:
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    conn.execute(t.message_names.delete())
    create(conn)
