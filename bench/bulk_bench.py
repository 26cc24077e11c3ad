"""Speed of the bulk paths (issue 16 item 2): `drvtape ingest` of a tape and `drvtape import`
of a JSONL file of `events` events (sessions of 1,000), each run as its own process, beside
its baselines measured in the same run, and where each microsecond per event goes.

- ingest: MB/s and CPU us/event beside the tape read and CRC-checked frame by frame
  (stream_bench.raw_crc_mb_s), peak RSS; target 30 MB/s. ingest_200k: the same at 200k
  events, when the run is bigger.
- import: events/s beside raw sqlite3 executemany (stream_bench.raw_insert_rate: tuples made
  in Python, as last session's figure) and beside executemany of the very rows drvtape
  stored, made beforehand, into a database of drvtape's schema: the floor of any path
  through SQLite; target 150k events/s.
- stages: CPU microseconds per event of each part of the two paths as the commands run them
  (the C insert path), timed alone in this process on inputs of the same shape (at most
  STAGE_EVENTS events); "glue" is the command's CPU time less its start-up (the same command
  on one session of 1,000 events) and less its stages' sum. Ingest: tape_events_built (tape
  bytes -> packed rows and rows, sessions and endings: stream_tape into no output),
  native_insert_select (the INSERT ... SELECT FROM drvtape_rows of those rows: chain and
  insert inside SQLite), packed_tally (thread counts of packed rows, in C) and
  session_headers (a session's look-up, header and end in a bulk load, per event). Import:
  jsonl_checked_rows, pack_rows, native_insert_select, thread_counts_tally (of tuples) and
  session_headers. Most records never meet the general reader (general_frames_crc,
  general_records: every frame through FrameReader and record_of) since the C fast path
  reads a CALL and its RETURN in one go (tape_rows_fast_share: the share of rows it built).
  The Python path's own stages stay beside them: chain_and_stored_rows (codec.to_db_rows)
  and sqlite_executemany (the floor of any path through sqlite3's executemany).

The machine's load average is reported beside them: on a machine shared with other work the
wall clock runs several times the CPU time, so each rate is also given per CPU second.
Run by hand at several sizes: `python bench/bulk_bench.py 200000 1000000`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from drvtape.formats.jsonl_reader import PlainRows, RowEvent, jsonl_items
from drvtape.formats.tape import records
from drvtape.formats.tape_frames import frames
from drvtape.recorder.ingest import stream_tape
from drvtape.schema.events import SessionHeader
from drvtape.store import Store, codec
from drvtape.store.appends import INSERT_COLUMNS
from drvtape.store.bulk import joined
from drvtape.store.native_insert import NativeInsert, pack
from drvtape.store.packed_rows import PackedRows
from drvtape.store.session_summary import tally
from stream_bench import drvtape_child, header_fields, raw_crc_mb_s, raw_insert_rate, write_jsonl, write_tape

INGEST_TARGET_MB_S = 30
IMPORT_TARGET_EVENTS_S = 150_000
STAGE_EVENTS = 200_000  # the stages' own inputs: costs per event, in bounded memory at any size
SMALL_INGEST = 200_000  # ingest is also measured at this size (ingest_200k) when the run is bigger
CHUNK = 1_000  # rows per executemany: a session's, as the bulk load's flushes are
SQLITE_PARAMS = ",".join("?" * 17)


class _NoOutput:
    """A session output that drops what it is given (stream_tape's own cost), counting the
    rows the fast path handed on."""

    fast_rows = 0

    def __init__(self, header):
        pass

    def row(self, row) -> None:
        pass

    def rows(self, rows) -> None:
        _NoOutput.fast_rows += len(rows)

    def blob(self, key: str, data: bytes) -> None:
        pass

    def close(self, info) -> None:
        pass


class _Kept(_NoOutput):
    """A session output keeping each session's rows in parts, as the bulk load holds them."""

    sessions: list[list] = []

    def __init__(self, header):
        self.parts: list = []
        _Kept.sessions.append(self.parts)

    def row(self, row) -> None:
        self.parts.append([row])

    def rows(self, rows) -> None:
        self.parts.append(rows)


def _cpu_us(events: int, work: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    result = work()
    return round((time.process_time() - started) / events * 1e6, 2), result


def sqlite_floor(tmp: Path, source: Path) -> tuple[float, float]:
    """(events/s, CPU us/event) of executemany of the rows stored in the database `source`
    into a new database of drvtape's schema, one transaction, CHUNK rows a call (their
    sessions inserted first); only the executemany calls are timed."""
    path = tmp / "floor.db"
    Store.open(path, create=True).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    src = sqlite3.connect(source)
    conn.executemany("INSERT INTO sessions (pk, uuid, driver, machine, os, process, recorder_version, started_us, "
                     "clock, source) VALUES (?, ?, 'd', 'm', 'o', 'p', 'r', 0, 'c', 's')",
                     [(pk, str(pk)) for (pk,) in src.execute("SELECT pk FROM sessions")])
    conn.execute("BEGIN")
    rows = src.execute("SELECT * FROM events ORDER BY session_pk, seq")
    wall = cpu = 0.0
    count = 0
    while chunk := rows.fetchmany(CHUNK):
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        conn.executemany(f"INSERT INTO events VALUES ({SQLITE_PARAMS})", chunk)
        wall += time.perf_counter() - started_wall
        cpu += time.process_time() - started_cpu
        count += len(chunk)
    started_wall = time.perf_counter()
    conn.execute("COMMIT")
    wall += time.perf_counter() - started_wall
    conn.close()
    src.close()
    path.unlink()
    return count / wall, round(cpu / count * 1e6, 2)


def _stages(tmp: Path, events: int) -> dict:
    """CPU us/event of each part, alone, on inputs of `events` events (see the module's docstring)."""
    tape, jsonl = tmp / "sample.drvtape", tmp / "sample.jsonl"
    events = write_jsonl(jsonl, events)
    write_tape(tape, events)
    data = tape.read_bytes()
    lines = jsonl.read_bytes().splitlines()
    rows = []
    for item in jsonl_items(lines, "bench"):
        if isinstance(item, PlainRows):
            rows += item.rows
        elif isinstance(item, RowEvent):
            rows.append(item.row)
    out: dict = {"events": events}
    out["general_frames_crc"], _ = _cpu_us(events, lambda: sum(1 for _ in frames(data, [])))
    out["general_records"], _ = _cpu_us(events, lambda: sum(1 for _ in records(data, [])))
    _NoOutput.fast_rows = 0
    out["tape_events_built"], _ = _cpu_us(events, lambda: stream_tape(data, "bench", _NoOutput))
    out["tape_rows_fast_share"] = round(_NoOutput.fast_rows / events, 3)
    out["jsonl_orjson_parse"], _ = _cpu_us(events, lambda: sum(1 for line in lines if orjson.loads(line)))
    out["jsonl_checked_rows"], _ = _cpu_us(events, lambda: sum(1 for _ in jsonl_items(lines, "bench")))

    def chained():
        tip = b"\0" * 16
        for start in range(0, len(rows), CHUNK):
            _, tip = codec.to_db_rows(1, rows[start:start + CHUNK], tip)

    out["chain_and_stored_rows"], _ = _cpu_us(events, chained)
    out["thread_counts_tally"], _ = _cpu_us(events, lambda: [tally(rows[start:start + CHUNK])
                                                             for start in range(0, len(rows), CHUNK)])
    out["pack_rows"], _ = _cpu_us(events, lambda: [pack(rows[start:start + CHUNK], CHUNK)
                                                   for start in range(0, len(rows), CHUNK)])
    _Kept.sessions = []
    stream_tape(data, "bench", _Kept)
    packed = [joined(parts) for parts in _Kept.sessions]  # a session's rows, as the bulk load inserts them
    out["packed_tally"], _ = _cpu_us(events, lambda: [tally(p) for p in packed])
    out["native_insert_select"] = _native_insert_cpu_us(tmp, packed, events)
    out["session_headers"] = _session_headers_cpu_us(tmp, len(packed), events)
    return out


def _native_insert_cpu_us(tmp: Path, packed: list[PackedRows], events: int) -> float:
    """CPU us/event of NativeInsert's statement over each session's packed rows, into a new
    database of drvtape's schema, one transaction."""
    path = tmp / "native.db"
    Store.open(path, create=True).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executemany("INSERT INTO sessions (pk, uuid, driver, machine, os, process, recorder_version, started_us, "
                     "clock, source) VALUES (?, ?, 'd', 'm', 'o', 'p', 'r', 0, 'c', 's')",
                     [(pk, str(pk)) for pk in range(1, len(packed) + 1)])
    sql = NativeInsert(INSERT_COLUMNS).sql
    conn.execute("BEGIN")
    started = time.process_time()
    for pk, rows in enumerate(packed, 1):
        conn.execute(sql, (pk, rows.packed, bytes(16)))
    cpu = time.process_time() - started
    conn.execute("COMMIT")
    conn.close()
    path.unlink()
    return round(cpu / events * 1e6, 2)


def _session_headers_cpu_us(tmp: Path, sessions: int, events: int) -> float:
    """CPU us/event of a bulk load's work per session with no rows (look-up, header, end)
    for `sessions` sessions, spread over `events` events."""
    path = tmp / "headers.db"
    headers = [SessionHeader(**header_fields(s)) for s in range(sessions)]
    with Store.open(path, create=True) as store, store.bulk_load() as load:
        started = time.process_time()
        for header in headers:
            load.end(load.begin(header, compare=False))
        cpu = time.process_time() - started
    path.unlink()
    return round(cpu / events * 1e6, 2)


def ingest_figure(tmp: Path, tape: Path, events: int) -> dict:
    """`drvtape ingest` of tape in its own process beside the tape read and CRC-checked, and
    the load average around both."""
    load_before = os.getloadavg()[0]
    ingest = drvtape_child(tmp, "--db", str(tmp / "ingested.db"), "ingest", "--quiet", "--json", str(tape))
    crc_mb_s = raw_crc_mb_s(tape)
    tape_mb = tape.stat().st_size / 1e6
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp / 'ingested.db'}{suffix}").unlink(missing_ok=True)
    return {
        "events": events, "mb_per_s": round(tape_mb / ingest["seconds"], 1), "baseline_mb_per_s": round(crc_mb_s, 1),
        "ratio": round(tape_mb / ingest["seconds"] / crc_mb_s, 3), "target_mb_per_s": INGEST_TARGET_MB_S,
        "mb_per_cpu_s": round(tape_mb / ingest["cpu_seconds"], 1),
        "cpu_us_per_event": round(ingest["cpu_seconds"] / events * 1e6, 2),
        "events_per_s": round(events / ingest["seconds"]), "tape_mb": round(tape_mb, 1),
        "peak_rss_mb": ingest["peak_rss_mb"], "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def bench_bulk(tmp: Path, events: int) -> dict:
    """Ingest and import at `events` events (see the module's docstring)."""
    tmp = tmp / "bulk"
    tmp.mkdir(exist_ok=True)
    jsonl, tape = tmp / "in.jsonl", tmp / "in.drvtape"
    events = write_jsonl(jsonl, events)
    write_tape(tape, events)
    write_jsonl(tmp / "one.jsonl", 1_000)
    write_tape(tmp / "one.drvtape", 1_000)
    load_before = os.getloadavg()
    ingest_fixed = drvtape_child(tmp, "--db", str(tmp / "one_ingested.db"), "ingest", "--quiet", "--json",
                                 str(tmp / "one.drvtape"))["cpu_seconds"]
    import_fixed = drvtape_child(tmp, "--db", str(tmp / "one_imported.db"), "import", "--quiet", "--json",
                                 str(tmp / "one.jsonl"))["cpu_seconds"]
    ingest = ingest_figure(tmp, tape, events)
    small = ingest_figure(tmp, tmp / "small.drvtape", write_tape(tmp / "small.drvtape", SMALL_INGEST)) \
        if events > SMALL_INGEST else None
    imported = drvtape_child(tmp, "--db", str(tmp / "imported.db"), "import", "--quiet", "--json", str(jsonl))
    raw_rate = raw_insert_rate(tmp / "raw.db", events)
    floor_rate, floor_cpu_us = sqlite_floor(tmp, tmp / "imported.db")
    stages = {**_stages(tmp, min(events, STAGE_EVENTS)), "sqlite_executemany": floor_cpu_us}
    load_after = os.getloadavg()
    out = {
        "what": "ingest and import, each its own process, beside baselines of the same run; stages in CPU us/event",
        "events": events,
        "load_average_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        "ingest": ingest,
        **({f"ingest_{SMALL_INGEST // 1000}k": small} if small else {}),
        "import": {
            "events_per_s": round(events / imported["seconds"]), "baseline_events_per_s": round(raw_rate),
            "ratio": round(events / imported["seconds"] / raw_rate, 3),
            "sqlite_floor_events_per_s": round(floor_rate),
            "ratio_to_floor": round(events / imported["seconds"] / floor_rate, 3),
            "target_events_per_s": IMPORT_TARGET_EVENTS_S,
            "events_per_cpu_s": round(events / imported["cpu_seconds"]),
            "cpu_us_per_event": round(imported["cpu_seconds"] / events * 1e6, 2),
            "sqlite_floor_cpu_us_per_event": floor_cpu_us, "peak_rss_mb": imported["peak_rss_mb"],
        },
        "stages_cpu_us_per_event": stages,
    }
    s = stages
    storing = s["native_insert_select"] + s["session_headers"]
    ingest_parts = s["tape_events_built"] + s["packed_tally"] + storing
    import_parts = s["jsonl_checked_rows"] + s["pack_rows"] + s["thread_counts_tally"] + storing
    for name, fixed, parts in (("ingest", ingest_fixed, ingest_parts), ("import", import_fixed, import_parts)):
        figure = out[name]
        figure["start_up_cpu_s"] = round(fixed, 2)  # the same command on one session of 1,000 events
        figure["glue_cpu_us_per_event"] = round(figure["cpu_us_per_event"] - fixed / events * 1e6 - parts, 2)
    for path in tmp.iterdir():
        path.unlink()
    return out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="drvtape-bulk-bench-") as folder:
        for size in [int(arg) for arg in sys.argv[1:]] or [200_000]:
            print(json.dumps(bench_bulk(Path(folder), size), indent=2), flush=True)
