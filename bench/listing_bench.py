"""`drvtape sessions` at fleet size (issue 16 item 4): seconds the command takes to list
every session as a table, as --json, and with --with-msg, in process (start-up excluded)
and as a command run from the shell (start-up included, the median of 3), each as wall and
as CPU time (the machine's load makes wall time mean little: load_average says it); beside
them the baselines of the same run: `python -c pass`, the listing's SQL run raw (in process,
and by sqlite3 in a new process), the libraries a listing imports (typer, rich, sqlite3,
orjson; then with SQLAlchemy and pydantic: the floor of a listing through the store), the
sessions' counts read from thread_counts (schema 8) and the same counts taken over every
event (what schema 6 ran). Also one session's events, in process.

New processes run with their bytecode cached, as an installed drvtape's: the children do
without PYTHONDONTWRITEBYTECODE (which compiled every drvtape module from source at each
start, ~0.2 s) and a first run writes the cache.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy.dialects import sqlite as sqlite_dialect

from drvtape.cli import main as drvtape_main
from drvtape.schema import messages as m
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import CALL, RETURN, end_row
from drvtape.store import Store
from drvtape.store.queries import sessions_query
from drvtape.store.session_summary import with_figures

TARGET_S = 1.0
TARGET_EVENTS_MS = 50
THREAD = 0x7F3A_5C2D_E700
COUNTS = ("SELECT session_pk, sum(events), sum(calls), sum(CASE WHEN calls > 0 THEN 1 ELSE 0 END) "
          "FROM thread_counts GROUP BY session_pk")
COUNTS_OVER_EVENTS = ("SELECT session_pk, count(*), sum(CASE WHEN kind = 0 THEN 1 ELSE 0 END), "
                      "count(DISTINCT CASE WHEN kind = 0 THEN thread END) FROM events GROUP BY session_pk")


def session_rows(pairs: int, msg: int) -> list[tuple]:
    rows = []
    for i in range(pairs):
        seq = 2 * i + 1
        rows.append((seq, CALL, 1_000 * i, THREAD, msg, 0x1001, 0x7E10, i, 0, None, None, 0, None, None))
        rows.append((seq + 1, RETURN, 1_000 * i + 400, THREAD, msg, 0x1001, 0x7E10, None, None, 0, seq, None, 400,
                     None))
    rows.append(end_row(2 * pairs + 1, 1_000 * pairs, THREAD, "closed"))
    return rows


def build(path: Path, sessions: int, pairs: int) -> None:
    """Sessions of 2 * pairs + 1 events; every fourth got a DRV_EXITSESSION."""
    plain, exiting = session_rows(pairs, m.DRV_USER + 1), session_rows(pairs, m.DRV_EXITSESSION)
    with Store.open(path, create=True) as store:
        for n in range(sessions):
            header = SessionHeader(id=uuid.uuid4(), driver="sim:bench", target="sim:bench", machine="bench",
                                   started_at=utc_now(), pid=0)
            store.store_session(header, exiting if n % 4 == 0 else plain)


def command_s(*args: str) -> tuple[float, int, float]:
    """Seconds `drvtape ARGS` takes in this process, the lines it printed, and its CPU seconds."""
    out = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        drvtape_main(list(args))
    return time.perf_counter() - started, out.getvalue().count("\n"), time.process_time() - cpu


def children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


CACHED_BYTECODE = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
LIBRARIES = "import typer, rich.console, rich.table, sqlite3, orjson"
RAW_SQL_CHILD = "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()"


def shell_s(*args: str) -> tuple[float, float, float]:
    """Median wall, median CPU and least CPU seconds of `python ARGS` (3 runs), output discarded."""
    took, cpu = [], []
    for _ in range(3):
        started, cpu_before = time.perf_counter(), children_cpu_s()
        subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL, check=True, timeout=300,
                       env=CACHED_BYTECODE)
        took.append(time.perf_counter() - started)
        cpu.append(children_cpu_s() - cpu_before)
    return statistics.median(took), statistics.median(cpu), min(cpu)


def raw_listing_sql() -> str:
    """The listing's statement (drvtape.store.session_summary.with_figures), values in its text."""
    return str(with_figures(sessions_query(dialect="sqlite")).compile(
        dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))


def raw_listing_s(path: Path) -> float:
    """The listing's statement by sqlite3, rows fetched."""
    sql = raw_listing_sql()
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    conn.execute(sql).fetchall()
    took = time.perf_counter() - started
    conn.close()
    return took


def query_s(store: Store, sql: str) -> float:
    with store.engine.connect() as conn:
        started = time.perf_counter()
        conn.exec_driver_sql(sql).all()
        return time.perf_counter() - started


def bench_listing(tmp: Path, sessions: int, pairs: int) -> dict:
    path = tmp / "listing.db"
    started = time.perf_counter()
    build(path, sessions, pairs)
    build_s = time.perf_counter() - started
    db = ["--db", str(path)]
    load_before = os.getloadavg()[0]
    command_s(*db, "sessions", "--limit", "1")  # warm: imports and the first connection
    table_s, table_lines, table_cpu_s = command_s(*db, "sessions")
    json_s, _, json_cpu_s = command_s(*db, "sessions", "--json")
    with_msg_s, with_msg_lines, with_msg_cpu_s = command_s(*db, "sessions", "--with-msg", "DRV_EXITSESSION")
    with Store.open(path) as store:
        counts_s, over_events_s = query_s(store, COUNTS), query_s(store, COUNTS_OVER_EVENTS)
        middle = store.session_ids()[sessions // 2]
        pk = store.resolve(middle).pk
        started, cpu = time.perf_counter(), time.process_time()
        store.rows(pk)
        rows_ms, rows_cpu_ms = (time.perf_counter() - started) * 1e3, (time.process_time() - cpu) * 1e3
    events_s, _, events_cpu_s = command_s(*db, "events", middle)
    shell_s("-m", "drvtape", *db, "sessions", "--limit", "1")  # writes the bytecode cache
    shell = {name: shell_s("-m", "drvtape", *db, *args) for name, args in (
        ("table", ["sessions"]), ("json", ["sessions", "--json"]),
        ("with_msg", ["sessions", "--with-msg", "DRV_EXITSESSION"]))}
    wall = {name: round(took, 3) for name, (took, _, _) in shell.items()}
    python_pass_s, python_pass_cpu_s, _ = shell_s("-c", "pass")
    _, imports_cpu_s, _ = shell_s("-c", "from drvtape.cli import command; command('sessions')")
    _, libraries_cpu_s, _ = shell_s("-c", LIBRARIES)
    _, store_libraries_cpu_s, _ = shell_s("-c", LIBRARIES + ", sqlalchemy, pydantic.main")
    _, raw_sql_cpu_s, _ = shell_s("-c", RAW_SQL_CHILD, str(path), raw_listing_sql())
    return {
        "what": f"s to list {sessions:,} sessions of {2 * pairs + 1} events in process (start-up excluded) and "
                "from the shell (median of 3, start-up included, bytecode cached), wall and cpu_* (CPU time; "
                "least_cpu_*: the least of the 3; load_average: the 1-minute load before and after), its imports "
                "alone, beside python -c pass, the libraries it imports (without and with SQLAlchemy and "
                "pydantic) and the listing's statement run raw (in process, and by sqlite3 in a new process); the counts from thread_counts beside the same counts over every event "
                "(schema 6's way); one session's events (store.rows, and `drvtape events` in process)",
        "sessions": sessions,
        "events": sessions * (2 * pairs + 1),
        "build_s": round(build_s, 1),
        "table_s": round(table_s, 3),
        "table_lines": table_lines,
        "json_s": round(json_s, 3),
        "with_msg_s": round(with_msg_s, 3),
        "with_msg_lines": with_msg_lines,
        "wall_table_s": wall["table"],
        "wall_json_s": wall["json"],
        "wall_with_msg_s": wall["with_msg"],
        "cpu_table_s": round(table_cpu_s, 3),
        "cpu_json_s": round(json_cpu_s, 3),
        "cpu_with_msg_s": round(with_msg_cpu_s, 3),
        "cpu_shell_table_s": round(shell["table"][1], 3),
        "cpu_shell_json_s": round(shell["json"][1], 3),
        "cpu_shell_with_msg_s": round(shell["with_msg"][1], 3),
        "least_cpu_shell_table_s": round(shell["table"][2], 3),
        "least_cpu_shell_json_s": round(shell["json"][2], 3),
        "least_cpu_shell_with_msg_s": round(shell["with_msg"][2], 3),
        "cpu_shell_imports_s": round(imports_cpu_s, 3),
        "baseline_libraries_cpu_s": round(libraries_cpu_s, 3),
        "baseline_libraries_with_sqlalchemy_pydantic_cpu_s": round(store_libraries_cpu_s, 3),
        "baseline_raw_sql_shell_cpu_s": round(raw_sql_cpu_s, 3),
        "baseline_python_pass_wall_s": round(python_pass_s, 3),
        "baseline_python_pass_cpu_s": round(python_pass_cpu_s, 3),
        "baseline_raw_sql_s": round(raw_listing_s(path), 3),
        "counts_ms": round(counts_s * 1e3, 1),
        "baseline_counts_over_events_ms": round(over_events_s * 1e3, 1),
        "one_session_rows_ms": round(rows_ms, 1),
        "one_session_rows_cpu_ms": round(rows_cpu_ms, 1),
        "one_session_events_command_ms": round(events_s * 1e3, 1),
        "one_session_events_command_cpu_ms": round(events_cpu_s * 1e3, 1),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "target_s": TARGET_S,
        "target_events_ms": TARGET_EVENTS_MS,
        "meets_target": max(table_s, json_s, with_msg_s, *wall.values()) <= TARGET_S
        and table_lines == sessions + 4 and rows_ms <= TARGET_EVENTS_MS,
    }
