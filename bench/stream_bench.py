"""Streaming at scale (issue 16 items 1, 2, 5): import, export, ingest, push, verify and
replay loading of `events` events (sessions of 1,000), each run as its own process so its
peak RSS is its own (bench/peak_rss.py), each beside its baseline:

- import and push: raw sqlite3 executemany of the same rows (no chain, no checks);
- export: raw sqlite3 SELECT of the rows, formatted as the same lines, written;
- ingest: the tape read and CRC-checked frame by frame in C (zlib.crc32), nothing else.

The inputs are generated here: a JSONL file of plain call/return pairs, a tape of the same
events (format version 3, as drvtap writes it) and, for export, verify and push (whose
figure is not the import's), a database of the same sessions written directly
(bench/direct_db.py): at 10M events, importing it first took most of an hour.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path

from direct_db import write_sessions
from drvtape.formats.tape import CALL, END, HEADER, MAGIC, REC_CALL, REC_END, REC_HEADER, REC_RETURN, RETURN
from drvtape.schema.events import SessionHeader
from drvtape.schema.rows import call_row, end_row, return_row

PER_SESSION = 1_000  # events, the end event included
PEAK_RSS_BOUND_MB = 250
BENCH = Path(__file__).parent
STARTED = "2024-05-01T12:00:00Z"
FREQ = 10_000_000
THREAD, MSG, DRIVER_ID, HDRVR = 4242, 2049, 1, 140737488355328


def session_id(i: int) -> str:
    return str(uuid.UUID(int=(0xB0 << 120) | i))


def header_fields(s: int) -> dict:
    """Session s's header, as its JSONL line gives it."""
    return {"id": session_id(s), "driver": "bench.dll", "machine": "bench", "pid": 0, "started_at": STARTED,
            "source": "import"}


def session_rows(per_session: int = PER_SESSION) -> list[tuple]:
    """The rows of every session write_jsonl writes (the sessions differ only in their header)."""
    rows = []
    pairs = (per_session - 1) // 2
    for p in range(pairs):
        call, ret = 2 * p + 1, 2 * p + 2
        rows.append(call_row(call, call * 1000, THREAD, MSG, DRIVER_ID, HDRVR, p, 0, 0))
        rows.append(return_row(ret, ret * 1000, THREAD, MSG, DRIVER_ID, HDRVR, 1, call, 1000))
    end = 2 * pairs + 1
    rows.append(end_row(end, end * 1000, THREAD, "closed"))
    return rows


def write_db(path: Path, events: int, per_session: int = PER_SESSION) -> int:
    """The sessions write_jsonl writes, stored directly in a new database at path; the events."""
    rows = session_rows(per_session)
    return write_sessions(path, ((SessionHeader(**header_fields(s)), rows)
                                 for s in range(max(1, events // per_session))))


def write_jsonl(path: Path, events: int, per_session: int = PER_SESSION) -> int:
    """Plain call/return pairs and an end per session; the events written."""
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for s in range(max(1, events // per_session)):
            out.write(json.dumps({"type": "session", "format": "drvtape-jsonl", "version": 1, **header_fields(s)})
                      + "\n")
            lines = []
            pairs = (per_session - 1) // 2
            for p in range(pairs):
                call, ret = 2 * p + 1, 2 * p + 2
                lines.append(f'{{"seq":{call},"ts_ns":{call * 1000},"thread":4242,"kind":"call","msg":2049,'
                             f'"driver_id":1,"hdrvr":140737488355328,"lparam1":{p},"lparam2":0,"depth":0,'
                             f'"payload":null}}\n{{"seq":{ret},"ts_ns":{ret * 1000},"thread":4242,"kind":"return",'
                             f'"call_seq":{call},"msg":2049,"driver_id":1,"hdrvr":140737488355328,"result":1,'
                             f'"duration_ns":1000}}\n')
            end = 2 * pairs + 1
            lines.append(f'{{"seq":{end},"ts_ns":{end * 1000},"thread":4242,"kind":"end","reason":"closed"}}\n')
            out.writelines(lines)
            written += end
    return written


def _frame(body: bytes) -> bytes:
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


def _tape_string(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def write_tape(path: Path, events: int, per_session: int = PER_SESSION) -> int:
    """A tape of sessions (one pid each) of call/return pairs ended by an END record; the
    events they give (the end event included)."""
    filetime = 133_590_000_000_000_000
    given = 0
    with open(path, "wb") as out:
        for s in range(max(1, events // per_session)):
            pid = 1000 + s
            body = HEADER.pack(REC_HEADER, MAGIC, 3, pid, 0, 8, 0, FREQ, 0, filetime, 0, 0)
            body += b"".join(_tape_string(t) for t in ("BENCH", "Windows 10", "C:\\bench.exe", "C:\\bench.dll",
                                                       "C:\\drvtap.dll"))
            chunk = [_frame(body)]
            pairs = (per_session - 1) // 2
            for p in range(pairs):
                call, ret = 2 * p + 1, 2 * p + 2
                chunk.append(_frame(CALL.pack(REC_CALL, pid, 4242, 0, call, call * 10, 2049, 0, 0, 1, 0x8000_0000_0000,
                                              p, 0)))
                chunk.append(_frame(RETURN.pack(REC_RETURN, pid, 4242, 0, ret, ret * 10, call, 2049, 0, 1,
                                                0x8000_0000_0000, 1)))
            chunk.append(_frame(END.pack(REC_END, pid, 4242, 1, 2 * pairs + 1, 2 * pairs * 10 + 10, 0, 0)))
            out.write(b"".join(chunk))
            given += 2 * pairs + 1
    return given


def drvtape_child(tmp: Path, *args: str) -> dict:
    """A drvtape command run in its own process: exit code, seconds and peak RSS."""
    out = tmp / "peak.json"
    run = subprocess.run([sys.executable, str(BENCH / "peak_rss.py"), str(out), *args], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    figure = json.loads(out.read_text())
    if figure["code"] != 0:
        raise RuntimeError(f"drvtape {' '.join(args)}: exit {figure['code']}: {run.stderr.strip()[-500:]}")
    return figure


def _rows(events: int):
    """The rows the raw baselines store: (session_pk, seq, kind, ts, thread, msg, ...)."""
    for i in range(events):
        yield (i // PER_SESSION + 1, i % PER_SESSION + 1, i % 2, i * 1000, 4242, 2049, 1, 1 << 47, i, 0, None,
               None, 0, None, None, b"0123456789abcdef")


def raw_insert_rate(path: Path, events: int) -> float:
    """Events a second of raw sqlite3 executemany into a table of the events' shape."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE e (session_pk, seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2,"
                 " result, call_seq, depth, duration_ns, payload, chain, PRIMARY KEY (session_pk, seq))")
    started = time.perf_counter()
    rows = _rows(events)
    while chunk := [r for _, r in zip(range(5_000), rows)]:
        conn.executemany("INSERT INTO e VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", chunk)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return events / seconds


def raw_export_rate(db: Path, out: Path) -> float:
    """Events a second of a raw SELECT of every row formatted as a line and written."""
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    n = 0
    with open(out, "w", encoding="utf-8") as stream:
        for row in conn.execute("SELECT seq, kind, ts_ns, thread, msg, driver_id, hdrvr, lparam1, lparam2, result, "
                                "call_seq, depth, duration_ns, payload FROM events ORDER BY session_pk, seq"):
            stream.write(f'{{"seq":{row[0]},"kind":{row[1]},"ts_ns":{row[2]},"thread":{row[3]},"msg":{row[4]}}}\n')
            n += 1
    seconds = time.perf_counter() - started
    conn.close()
    return n / seconds


def raw_crc_mb_s(path: Path) -> float:
    """MB/s of reading a tape and checking every frame's CRC (frame walk in Python, CRC in C)."""
    data = path.read_bytes()
    started = time.perf_counter()
    pos, view = 0, memoryview(data)
    unpack = struct.Struct("<II").unpack_from
    while pos < len(data):
        length, crc = unpack(data, pos)
        if zlib.crc32(view[pos + 8:pos + 8 + length]) != crc:
            raise RuntimeError("bad CRC in the bench's own tape")
        pos += 8 + length
    return len(data) / 1e6 / (time.perf_counter() - started)


def _figure(events: int, child: dict, unit: str, value: float, baseline: float) -> dict:
    """A rate (wall clock, as its baseline's) beside the baseline, and the process's CPU time:
    on a machine shared with other work the wall clock runs several times the CPU's."""
    return {unit: round(value, 1), f"baseline_{unit}": round(baseline, 1), "ratio": round(value / baseline, 3),
            "peak_rss_mb": child["peak_rss_mb"], "rss_bound_mb": PEAK_RSS_BOUND_MB,
            "within_bound": child["peak_rss_mb"] < PEAK_RSS_BOUND_MB, "seconds": round(child["seconds"], 2),
            "cpu_seconds": round(child["cpu_seconds"], 2)}


def bench_streaming(tmp: Path, events: int) -> dict:
    """Every streaming path at `events` events (see the module's docstring)."""
    tmp = tmp / "stream"
    tmp.mkdir(exist_ok=True)
    jsonl, tape, db = tmp / "in.jsonl", tmp / "in.drvtape", tmp / "direct.db"
    events = write_jsonl(jsonl, events)
    out: dict = {"events": events}
    child = drvtape_child(tmp, "--db", str(tmp / "imported.db"), "import", "--quiet", str(jsonl))
    out["import"] = _figure(events, child, "events_per_s", events / child["seconds"],
                            raw_insert_rate(tmp / "raw_import.db", events))
    write_db(db, events)
    child = drvtape_child(tmp, "--db", str(db), "export", "--all", "-o", str(tmp / "out.jsonl"))
    out["export"] = _figure(events, child, "events_per_s", events / child["seconds"],
                            raw_export_rate(db, tmp / "raw_out.jsonl"))
    child = drvtape_child(tmp, "--db", str(db), "export", "--all", "--compress", "-o", str(tmp / "out.jsonl.zst"))
    out["export_compressed"] = {"events_per_s": round(events / child["seconds"]), "peak_rss_mb": child["peak_rss_mb"],
                                "bytes_per_event": round((tmp / "out.jsonl.zst").stat().st_size / events, 2),
                                "baseline_bytes_per_event": round(jsonl.stat().st_size / events, 2)}
    child = drvtape_child(tmp, "--db", str(db), "verify", "--all", "--json")
    out["verify"] = _figure(events, child, "events_per_s", events / child["seconds"],
                            raw_export_rate(db, tmp / "raw_out.jsonl"))
    child = drvtape_child(tmp, "--db", str(db), "push", "--all", "--quiet", "--to", str(tmp / "pushed.db"))
    out["push"] = _figure(events, child, "events_per_s", events / child["seconds"],
                          raw_insert_rate(tmp / "raw_push.db", events))
    tape_events = write_tape(tape, events)
    size_mb = tape.stat().st_size / 1e6
    child = drvtape_child(tmp, "--db", str(tmp / "ingested.db"), "ingest", "--quiet", str(tape))
    out["ingest"] = {**_figure(tape_events, child, "mb_per_s", size_mb / child["seconds"], raw_crc_mb_s(tape)),
                     "events_per_s": round(tape_events / child["seconds"]), "tape_mb": round(size_mb, 1)}
    for path in tmp.iterdir():
        path.unlink()
    return out
