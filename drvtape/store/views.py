"""Views for people reading a drvtape database with their own tools (sqlite3, sqlite-utils,
Datasette, psql): `events_view` and `sessions_view`, names and hex where the tables hold numbers.

drvtape itself never reads them. `create` makes them in a new database and in schema
migration 0004; a later change to a view is a migration that drops and creates it again.

Message names come from the `message_names` table and, for codes it does not hold, from
the rules of drvtape.schema.messages.message_name (DRV_USER+n, DRV_MCI_FIRST+n, 0x000D). Its
rows with driver_class '' are the DRV_* names every driver shares (filled from the DRV_*
catalog); rows of a class name that class's own messages (ICM_*, ACMDM_*, MCI_*, and WODM_*
... AUXDM_* of the device entry points' classes, from drvtape.schema.memory.catalog).
events_view names an event by its class, as `drvtape events` does
(drvtape.schema.memory.classes): a device entry point's call by its entry point's class
(a code that class does not name is hex, never DRV_*), a DriverProc call by the class of the
instance it went to (drvtape.store.instance_sql), and says both (`entry_point`, `driver_class`).

A stored detail that is not JSON (a database `drvtape verify` calls damaged) reads as NULL
where a view looks inside it, so the views still answer.

Hex columns show the 64 bits of the value (thread, dwDriverId, hdrvr, lParams, result), as
`0x` and upper-case digits; times are ISO-8601 UTC with microseconds (an event's is its
session's start plus its ts_ns).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from drvtape.schema.entry_points import DEVICE_ENTRY_POINTS, EntryPoint, entry_point_code
from drvtape.schema.memory.catalog import class_names
from drvtape.schema.memory.classes import ENTRY_POINT_CLASSES, DriverClass
from drvtape.schema.messages import CATALOG, DRV_MCI_FIRST, DRV_MCI_LAST, DRV_USER
from drvtape.schema.rows import CALL, END, FAULT, KIND_NAMES, RETURN
from drvtape.store import tables as t
from drvtape.store.instance_sql import CLOSING, OPENED, PG_JSON_OR_NULL, Dialect, class_of_open

GENERIC_CLASS = ""  # message_names.driver_class of the names every driver shares
# the classes with message_names rows of their own: every class but drv
NAMED_CLASSES = tuple(cls for cls in DriverClass if cls is not DriverClass.DRV)
NAMES = ("events_view", "sessions_view")


def _message_name(d: Dialect, msg: str) -> str:
    """message_name's rules for codes message_names does not hold (drvtape.schema.messages)."""
    return (f"CASE WHEN {msg} IS NULL THEN NULL "
            f"WHEN {msg} = {DRV_USER} THEN 'DRV_USER' "
            f"WHEN {msg} > {DRV_USER} THEN 'DRV_USER+' || ({msg} - {DRV_USER}) "
            f"WHEN {msg} = {DRV_MCI_LAST} THEN 'DRV_MCI_LAST' "
            f"WHEN {msg} = {DRV_MCI_FIRST} THEN 'DRV_MCI_FIRST' "
            f"WHEN {msg} > {DRV_MCI_FIRST} AND {msg} < {DRV_MCI_LAST} THEN 'DRV_MCI_FIRST+' || ({msg} - {DRV_MCI_FIRST}) "
            f"ELSE {d.hex4(msg)} END")


def _instances(d: Dialect) -> str:
    """Each instance: its session, dwDriverId and class, from its DRV_OPEN's return (opened)
    up to its DRV_CLOSE call, or to just before a later DRV_OPEN returned the same id (closed;
    NULL: never closed). classes.InstanceClasses, in SQL (drvtape.store.instance_sql)."""
    return f"""opened AS (
  SELECT r.session_pk, r.result AS driver_id, r.seq AS opened, {class_of_open(d, 'c.payload', 's.driver')} AS cls
  FROM events r
  JOIN events c ON c.session_pk = r.session_pk AND c.seq = r.call_seq
  JOIN sessions s ON s.pk = r.session_pk
  WHERE {OPENED.format('r.')} AND r.result <> 0
), instances AS (
  SELECT o.session_pk, o.driver_id, o.cls, o.opened,
         MIN(CASE WHEN x.kind = {RETURN} THEN x.seq - 1 ELSE x.seq END) AS closed
  FROM opened o
  LEFT JOIN events x ON x.session_pk = o.session_pk AND x.seq > o.opened
       AND (({CLOSING.format('x.')} AND x.driver_id = o.driver_id)
            OR ({OPENED.format('x.')} AND x.result = o.driver_id))
  GROUP BY o.session_pk, o.driver_id, o.cls, o.opened
)"""


def _event_class(entry_point: str, instance_class: str) -> str:
    """The class of an event: its device entry point's, or for DriverProc its instance's."""
    devices = " ".join(f"WHEN {entry_point_code(ep)} THEN '{cls.value}'" for ep, cls in ENTRY_POINT_CLASSES.items())
    return f"CASE {entry_point} {devices} ELSE COALESCE({instance_class}, '{DriverClass.DRV.value}') END"


def _events_view(d: Dialect) -> str:
    kinds = " ".join(f"WHEN {code} THEN '{name}'" for code, name in KIND_NAMES.items())
    entry_points = " ".join(f"WHEN {entry_point_code(ep)} THEN '{ep.value}'" for ep in DEVICE_ENTRY_POINTS)
    # a device entry point's code that it does not name is no DRV_* message: hex, as drvtape events shows it
    unnamed = f"CASE WHEN e.entry_point IS NULL THEN COALESCE(g.name, {_message_name(d, 'e.msg')}) ELSE {d.hex4('e.msg')} END"
    return f"""CREATE VIEW events_view AS
WITH {_instances(d)}, classed AS (
  SELECT e.*, {_event_class('e.entry_point', 'i.cls')} AS cls
  FROM events e
  LEFT JOIN instances i ON e.entry_point IS NULL AND i.session_pk = e.session_pk AND i.driver_id = e.driver_id
       AND e.seq >= i.opened AND (i.closed IS NULL OR e.seq <= i.closed)
)
SELECT s.uuid AS session, e.seq, CASE e.kind {kinds} END AS kind,
       {d.iso('s.started_us + e.ts_ns / 1000')} AS time,
       {d.hex64('e.thread')} AS thread,
       CASE WHEN e.msg IS NULL THEN NULL ELSE COALESCE(n.name, {unnamed}) END AS message, e.msg,
       CASE WHEN e.msg IS NULL THEN NULL ELSE CASE e.entry_point {entry_points} ELSE '{EntryPoint.DRIVER_PROC.value}' END END
           AS entry_point,
       CASE WHEN e.msg IS NULL THEN NULL ELSE e.cls END AS driver_class,
       {d.hex64('e.driver_id')} AS driver_id, {d.hex64('e.hdrvr')} AS hdrvr,
       {d.hex64('e.lparam1')} AS lparam1, {d.hex64('e.lparam2')} AS lparam2, {d.hex64('e.result')} AS result,
       e.call_seq, e.depth, e.duration_ns, e.ts_ns, e.payload AS detail
FROM classed e
JOIN sessions s ON s.pk = e.session_pk
LEFT JOIN message_names n ON n.driver_class = e.cls AND n.code = e.msg
LEFT JOIN message_names g ON g.driver_class = '{GENERIC_CLASS}' AND g.code = e.msg"""


def _sessions_view(d: Dialect) -> str:
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
    dialect = Dialect(conn.dialect.name)
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
