"""Where `drvtape import` spends its CPU (issue 16 item 2: target 150k events/s): the whole
command in its own process (wall, CPU, peak RSS), and CPU microseconds per event of each of
its stages, each timed alone in this process on the same file (sessions of 1,000 plain
call/return pairs, bench/stream_bench.write_jsonl):

- read_lines: the file's lines as import reads them (input_lines);
- jsonl_items: lines -> checked rows and headers (parse, shape, ranges, session checks);
  of it, orjson_parse is orjson.loads alone;
- store: those rows and headers through a BulkLoad into a new database, committed; of it,
  pack_rows, insert_select (drvtape_rows chaining and inserting the packed rows),
  thread_counts (tally and upsert) and headers (look-up and insert of each session);
- rest: the in-process import (load_file) less read_lines, jsonl_items and store.

Beside them, the load average: on a machine shared with other work CPU time varies much
less than wall time. Run by hand: `python bench/import_bench.py 200000 1000000`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from drvtape.cli.import_export import input_lines, load_file
from drvtape.formats.jsonl_reader import PlainRows, RowEvent, jsonl_items
from drvtape.store import Store
from drvtape.store import native_insert
from drvtape.store.bulk import CHUNK_ROWS
from stream_bench import drvtape_child, write_jsonl

TARGET_EVENTS_S = 150_000


def _cpu_s(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _sessions(lines: list[bytes]) -> list[tuple[object, list[tuple]]]:
    sessions: list = []
    for item in jsonl_items(lines, "bench"):
        if item.__class__ is PlainRows:
            sessions[-1][1].extend(item.rows)
        elif item.__class__ is RowEvent:
            sessions[-1][1].append(item.row)
        else:
            sessions.append((item, []))
    return sessions


def _store(db: Path, sessions: list) -> dict:
    """CPU seconds of storing the sessions through a BulkLoad, and of its parts alone."""
    with Store.open(db, create=True) as store:
        def load():
            with store.bulk_load() as bulk:
                for header, rows in sessions:
                    loaded = bulk.begin(header)
                    bulk.add_rows(loaded, rows)
                    bulk.end(loaded)
        whole = _cpu_s(load)
    db.unlink()
    chunks = [(n, rows[start:start + CHUNK_ROWS]) for n, (_, rows) in enumerate(sessions)
              for start in range(0, len(rows), CHUNK_ROWS)]
    parts = {"pack_rows": _cpu_s(lambda: [native_insert.pack(c, len(c)) for _, c in chunks])}
    with Store.open(db, create=True) as store:
        inserter, pks = store.inserter, [store.begin_session(header) for header, _ in sessions]
        packed = [(pks[n], native_insert.pack(c, len(c))) for n, c in chunks]
        with store.writing() as conn:
            if inserter.native:
                parts["insert_select"] = _cpu_s(lambda: [conn.exec_driver_sql(inserter.native.sql, (pk, p, bytes(16)))
                                                         for pk, p in packed])
            parts["thread_counts"] = _cpu_s(lambda: [inserter.counts.add(conn, pks[n], c) for n, c in chunks])
            conn.rollback()
    db.unlink()
    with Store.open(db, create=True) as store:
        with store.bulk_load() as bulk:
            parts["headers"] = _cpu_s(lambda: [bulk.end(bulk.begin(header)) for header, _ in sessions])
    db.unlink()
    return {"store": whole, **parts}


def bench_import(tmp: Path, events: int) -> dict:
    """The whole command and its stages at `events` events (see the module's docstring)."""
    tmp = tmp / "import"
    tmp.mkdir(exist_ok=True)
    jsonl = tmp / "in.jsonl"
    events = write_jsonl(jsonl, events)
    load_before = os.getloadavg()
    child = drvtape_child(tmp, "--db", str(tmp / "child.db"), "import", "--quiet", "--json", str(jsonl))
    (tmp / "child.db").unlink()

    def read():
        with input_lines(str(jsonl)) as (lines, _):
            return sum(1 for _ in lines)

    lines = jsonl.read_bytes().splitlines()
    cpu = {"read_lines": _cpu_s(read),
           "orjson_parse": _cpu_s(lambda: [orjson.loads(line) for line in lines]),
           "jsonl_items": _cpu_s(lambda: sum(1 for _ in jsonl_items(lines, "bench")))}
    cpu.update(_store(tmp / "stages.db", _sessions(lines)))
    with Store.open(tmp / "whole.db", create=True) as store:
        cpu["whole_in_process"] = _cpu_s(lambda: _load_whole(store, jsonl))
    (tmp / "whole.db").unlink()
    cpu["rest"] = cpu["whole_in_process"] - cpu["read_lines"] - cpu["jsonl_items"] - cpu["store"]
    load_after = os.getloadavg()
    jsonl.unlink()
    return {
        "what": "drvtape import: the command in its own process; its stages alone, CPU us/event",
        "events": events,
        "load_average_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        "events_per_s": round(events / child["seconds"]), "target_events_per_s": TARGET_EVENTS_S,
        "events_per_cpu_s": round(events / child["cpu_seconds"]),
        "cpu_us_per_event": round(child["cpu_seconds"] / events * 1e6, 2), "peak_rss_mb": child["peak_rss_mb"],
        "stages_cpu_us_per_event": {name: round(s / events * 1e6, 2) for name, s in cpu.items()},
    }


def _load_whole(store: Store, path: Path) -> None:
    with store.bulk_load() as load:
        load_file(load, str(path), {})


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="drvtape-import-bench-") as folder:
        for size in [int(arg) for arg in sys.argv[1:]] or [200_000]:
            print(json.dumps(bench_import(Path(folder), size), indent=2), flush=True)
