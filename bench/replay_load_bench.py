"""Replay loading at scale (issue 16 item 1): one session of `events` events (two threads
taking turns: call/return pairs of DRV_USER+1 that sim:reference answers as recorded)
written directly (bench/direct_db.py), then `drvtape replay` against sim:reference, serial
and thread-faithful, each in its own process (bench/peak_rss.py): seconds, CPU seconds and
peak RSS, and the seconds loading the recording takes of them (load_recording alone, in
its own process too). The load average is given beside them: wall seconds mean little at 10-20.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from direct_db import write_sessions
from drvtape.replay import load_recording
from drvtape.schema.events import EndReason
from drvtape.schema.rows import end_row
from drvtape.store import Store
from peak_rss import peak_rss_mb
from sample_rows import CALL, DRV_USER_1, RETURN, new_header
from stream_bench import PEAK_RSS_BOUND_MB, drvtape_child

THREADS = (4242, 4243)
HDRVR = 140737488355328


def session_rows(events: int) -> list[tuple]:
    """Call/return pairs on two alternating threads, then the end (ROW_COLUMNS order)."""
    pairs = (events - 1) // 2
    rows = []
    for p in range(pairs):
        call, thread = 2 * p + 1, THREADS[p % 2]
        rows.append((call, CALL, call * 1000, thread, DRV_USER_1, 0, HDRVR, p, 0, None, None, 0, None, None, None))
        rows.append((call + 1, RETURN, call * 1000 + 1000, thread, DRV_USER_1, 0, HDRVR, None, None, 0, call, None,
                     1000, None, None))
    rows.append(tuple(end_row(2 * pairs + 1, 2 * pairs * 1000 + 2000, THREADS[0], EndReason.CLOSED)))
    return rows


def write_session(path: Path, events: int) -> int:
    """A new database at path holding one such session; the events written."""
    return write_sessions(path, [(new_header("bench.dll"), session_rows(events))])


def session_dbs(folder: Path, sizes) -> dict[int, Path]:
    """{events: a database in folder holding one session of that many events} per size."""
    dbs = {events: folder / f"{events}.db" for events in sizes}
    for events, db in dbs.items():
        write_session(db, events)
    return dbs


def bench_replay_loading(tmp: Path, events: int) -> dict:
    tmp = tmp / "replay_load"
    tmp.mkdir(exist_ok=True)
    db = tmp / "replay.db"
    events = write_session(db, events)
    out: dict = {"events": events, "rss_bound_mb": PEAK_RSS_BOUND_MB}
    subprocess.run([sys.executable, __file__, str(db), str(tmp / "load.json")], check=True,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    out["load_only"] = json.loads((tmp / "load.json").read_text())
    for threads in ("serial", "faithful"):
        child = drvtape_child(tmp, "--db", str(db), "replay", "last", "--target", "sim:reference",
                              "--threads", threads, "--quiet", "--json")
        out[threads] = {"seconds": round(child["seconds"], 2), "cpu_seconds": round(child["cpu_seconds"], 2),
                        "peak_rss_mb": child["peak_rss_mb"], "within_bound": child["peak_rss_mb"] < PEAK_RSS_BOUND_MB,
                        "events_per_s": round(events / child["seconds"]),
                        "load_average": round(os.getloadavg()[0], 1)}
    for path in tmp.iterdir():
        path.unlink()
    return out


def load_only(db: str, out_path: str) -> None:
    """In this process: load the last session as replay does; its seconds and peak RSS to out_path."""
    started, cpu = time.perf_counter(), time.process_time()
    with Store.open(db) as store:
        recording = load_recording(store, "last")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump({"calls": len(recording.calls), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                   "load_average": round(os.getloadavg()[0], 1),
                   "peak_rss_mb": peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF))}, out)


if __name__ == "__main__":
    load_only(sys.argv[1], sys.argv[2])
