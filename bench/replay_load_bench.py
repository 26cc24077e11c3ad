"""Replay loading at scale (issue 16 item 1): one session of `events` events (two threads
taking turns: call/return pairs of DRV_USER+1 that sim:reference answers as recorded)
imported, then `drvtape replay` against sim:reference, serial and thread-faithful, each in
its own process (bench/peak_rss.py): seconds and peak RSS, and the seconds loading the
recording takes of them (load_recording alone, in its own process too).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from drvtape.replay import load_recording
from drvtape.store import Store
from peak_rss import peak_rss_mb
from stream_bench import PEAK_RSS_BOUND_MB, STARTED, drvtape_child, session_id

THREADS = (4242, 4243)


def write_session(path: Path, events: int) -> int:
    """One session of call/return pairs on two alternating threads, then its end; the events written."""
    pairs = (events - 1) // 2
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "session", "format": "drvtape-jsonl", "version": 1, "id": session_id(0),
                              "driver": "bench.dll", "machine": "bench", "pid": 0, "started_at": STARTED,
                              "source": "import"}) + "\n")
        for start in range(0, pairs, 10_000):
            lines = []
            for p in range(start, min(pairs, start + 10_000)):
                call, ret, thread = 2 * p + 1, 2 * p + 2, THREADS[p % 2]
                lines.append(f'{{"seq":{call},"ts_ns":{call * 1000},"thread":{thread},"kind":"call","msg":2049,'
                             f'"driver_id":0,"hdrvr":140737488355328,"lparam1":{p},"lparam2":0,"depth":0,'
                             f'"payload":null}}\n{{"seq":{ret},"ts_ns":{ret * 1000},"thread":{thread},'
                             f'"kind":"return","call_seq":{call},"msg":2049,"driver_id":0,"hdrvr":140737488355328,'
                             f'"result":0,"duration_ns":1000}}\n')
            out.writelines(lines)
        end = 2 * pairs + 1
        out.write(f'{{"seq":{end},"ts_ns":{end * 1000},"thread":{THREADS[0]},"kind":"end","reason":"closed"}}\n')
    return end


def bench_replay_loading(tmp: Path, events: int) -> dict:
    tmp = tmp / "replay_load"
    tmp.mkdir(exist_ok=True)
    jsonl, db = tmp / "session.jsonl", tmp / "replay.db"
    events = write_session(jsonl, events)
    drvtape_child(tmp, "--db", str(db), "import", "--quiet", str(jsonl))
    out: dict = {"events": events, "rss_bound_mb": PEAK_RSS_BOUND_MB}
    subprocess.run([sys.executable, __file__, str(db), str(tmp / "load.json")], check=True,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    out["load_only"] = json.loads((tmp / "load.json").read_text())
    for threads in ("serial", "faithful"):
        child = drvtape_child(tmp, "--db", str(db), "replay", "last", "--target", "sim:reference",
                              "--threads", threads, "--quiet", "--json")
        out[threads] = {"seconds": round(child["seconds"], 2), "peak_rss_mb": child["peak_rss_mb"],
                        "within_bound": child["peak_rss_mb"] < PEAK_RSS_BOUND_MB,
                        "events_per_s": round(events / child["seconds"])}
    for path in tmp.iterdir():
        path.unlink()
    return out


def load_only(db: str, out_path: str) -> None:
    """In this process: load the last session as replay does; its seconds and peak RSS to out_path."""
    started = time.perf_counter()
    with Store.open(db) as store:
        recording = load_recording(store, "last")
    seconds = time.perf_counter() - started
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump({"calls": len(recording.calls), "seconds": round(seconds, 2),
                   "peak_rss_mb": peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF))}, out)


if __name__ == "__main__":
    load_only(sys.argv[1], sys.argv[2])
