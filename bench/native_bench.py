"""The SQLite insert floor (issue 16 items 2-3): CPU microseconds per row of EventInserter.insert
on its C path, on its Python path and of raw sqlite3 executemany of the very rows stored
(links made beforehand), each into drvtape's own DDL; and how much of the GIL the writer holds
per row (its CPU outside sqlite3_step, which Python's sqlite3 runs without the GIL); and a
second thread counting while one C statement inserts every row, to show it runs meanwhile.

CPU time (time.process_time) is this process's, so the figures hold on a loaded machine,
where wall time does not; the load average is given beside them. The counter's share is
wall time and so depends on the load: it is measured alone first, just before.
Run by hand: `python bench/native_bench.py [rows]`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
import uuid
from pathlib import Path

from sample_rows import call_return_rows, new_header
from drvtape.store import Store, chain, codec
from drvtape.store.appends import EventInserter
from drvtape.store.native_insert import NOT_NULL_MASK, TIP_SQL, UNSIGNED_MASK, registered, sqlite_rows

BATCH = 8_192  # the recorder's batch size


def _insert_all(store: Store, inserter: EventInserter, batches: list, share_gil: bool) -> tuple[float, float]:
    """(CPU s, wall s) of inserting every batch into a new session, one transaction each."""
    pk = store.begin_session(new_header())
    tip = chain.genesis(uuid.uuid4())
    cpu, wall = time.process_time(), time.perf_counter()
    for rows in batches:
        with store.writing() as conn:
            tip = inserter.insert(conn, pk, rows, tip, share_gil=share_gil)
    return time.process_time() - cpu, time.perf_counter() - wall


def _raw_executemany(path: Path, batches: list) -> float:
    """CPU s of raw sqlite3 executemany of the stored rows (links precomputed, untimed)."""
    Store.open(str(path), create=True).close()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("INSERT INTO sessions (pk, uuid, driver, machine, os, process, recorder_version, started_us, "
                 "clock, source) VALUES (1, ?, 'bench', '', '', '', '', 0, '', 'bench')", (str(uuid.uuid4()),))
    tip, stored = chain.genesis(uuid.uuid4()), []
    for rows in batches:
        db_rows, tip = codec.to_db_rows(1, rows, tip)
        stored.append(db_rows)
    sql = f"INSERT INTO events VALUES ({','.join('?' * 17)})"
    cpu = time.process_time()
    for db_rows in stored:
        conn.execute("BEGIN")
        conn.executemany(sql, db_rows)
        conn.execute("COMMIT")
    cpu = time.process_time() - cpu
    conn.close()
    return cpu


def _statement_cpu(store: Store, packed_batches: list[bytes], sql: str) -> float:
    """Thread CPU s of running sql (session_pk, packed, tip) once per packed batch, each in its own
    transaction of a new session: the part of the C path inside sqlite3_step."""
    pk = store.begin_session(new_header())
    tip, spent = chain.genesis(uuid.uuid4()), 0.0
    for packed in packed_batches:
        with store.writing() as conn:
            cpu = time.thread_time()
            conn.exec_driver_sql(sql, (pk, packed, tip))
            spent += time.thread_time() - cpu
            tip = conn.exec_driver_sql(TIP_SQL).scalar_one()
    return spent


def _counter_during(work) -> dict:
    """Iterations a Python thread counting makes while work() runs, as a share of those it makes
    alone just before in the same time: about 0 when work holds the GIL throughout."""
    def count(seconds: float | None, stop: threading.Event, out: dict) -> None:
        n, end = 0, time.perf_counter() + seconds if seconds else None
        while not stop.is_set() and (end is None or time.perf_counter() < end):
            n += 1
        out["n"] = n

    alone: dict = {}
    count(0.3, threading.Event(), alone)
    beside, stop = {}, threading.Event()
    counter = threading.Thread(target=count, args=(None, stop, beside))
    counter.start()
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    stop.set()
    counter.join()
    return {"counter_share": round(beside["n"] / (alone["n"] / 0.3 * wall), 3), "wall_s": round(wall, 3)}


def bench_native(tmp: Path, count: int) -> dict:
    """C path vs Python path vs raw executemany, in CPU us/row; the GIL the writer holds per row."""
    if not registered():
        return {"what": "the C insert path", "skipped": "drvtape.store.sqlite_rows is not built or registered"}
    tmp = tmp / "native"
    tmp.mkdir(exist_ok=True)
    rows = call_return_rows(1, count // 2)
    batches = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]
    load_before = os.getloadavg()
    us = 1e6 / len(rows)
    with Store.open(str(tmp / "c.db"), create=True) as c_store, Store.open(str(tmp / "py.db"), create=True) as py_store:
        python = EventInserter(py_store.engine, native=False)
        c_cpu, c_wall = _insert_all(c_store, c_store.inserter, batches, share_gil=False)
        py_cpu, py_wall = _insert_all(py_store, python, batches, share_gil=False)
        pack_cpu = time.process_time()
        packed = [sqlite_rows.pack_rows(b, UNSIGNED_MASK, NOT_NULL_MASK) for b in batches]
        pack_cpu = time.process_time() - pack_cpu
        chain_cpu = time.process_time()
        with c_store.engine.connect() as conn:
            for p in packed:
                conn.exec_driver_sql("SELECT count(*) FROM drvtape_rows(?, ?)", (p, bytes(16))).scalar_one()
        chain_cpu = time.process_time() - chain_cpu
        statement_cpu = _statement_cpu(c_store, packed, c_store.inserter.native.sql)
        one_statement = sqlite_rows.pack_rows(rows, UNSIGNED_MASK, NOT_NULL_MASK)
        during = _counter_during(lambda: _statement_cpu(c_store, [one_statement], c_store.inserter.native.sql))
    raw_cpu = _raw_executemany(tmp / "raw.db", batches)
    sqlite_work = statement_cpu - chain_cpu  # the inserts and indexes: done without the GIL on the C path
    out = {
        "what": f"CPU us/row inserting {len(rows)} call/return rows in batches of {BATCH}, one transaction each, "
                "into drvtape's DDL (thread_counts kept by both inserter paths); GIL held = the writer's CPU "
                "outside sqlite3_step (the C path's statement measured alone; the Python path's inserts taken "
                "as costing what the C statement's inserts cost)",
        "rows": len(rows),
        "cpu_us_per_row": {"c_path": round(c_cpu * us, 2), "python_path": round(py_cpu * us, 2),
                           "raw_executemany_links_made_before": round(raw_cpu * us, 2),
                           "c_pack_rows": round(pack_cpu * us, 2), "c_chain_in_sqlite": round(chain_cpu * us, 2),
                           "c_insert_select_statement": round(statement_cpu * us, 2)},
        "wall_us_per_row": {"c_path": round(c_wall * us, 2), "python_path": round(py_wall * us, 2)},
        "gil_held_cpu_us_per_row": {"c_path": round((c_cpu - statement_cpu) * us, 2),
                                    "python_path": round((py_cpu - sqlite_work) * us, 2)},
        "counter_thread_during_one_c_statement": {"rows": len(rows), **during},
        "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    for path in tmp.iterdir():
        path.unlink()
    return out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="drvtape-native-bench-") as folder:
        print(json.dumps(bench_native(Path(folder), int(sys.argv[1]) if len(sys.argv) > 1 else 200_000), indent=2))
