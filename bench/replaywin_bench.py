"""Replay's planning and memory at scale (issue 16 item 1, issue 12's replay CPU): the session
of bench/replay_load_bench.py (two threads taking turns, written directly), replayed against
sim:reference serial and thread-faithful as `drvtape replay` does it (load_recording, then
replay_recording), each in its own process: CPU seconds of the whole (imports excluded) and
the child's peak RSS (VmHWM), beside the load average (wall seconds mean little at 10).

`python bench/replaywin_bench.py DB THREADS OUT.json` is the child.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from peak_rss import peak_rss_mb
from replay_load_bench import write_session

from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.store import Store


def bench_replay_window(tmp: Path, events: int) -> dict:
    tmp = tmp / "replay_window"
    tmp.mkdir(exist_ok=True)
    db = tmp / "replay.db"
    out: dict = {"events": write_session(db, events)}
    for threads in ("serial", "faithful"):
        figure = tmp / f"{threads}.json"
        subprocess.run([sys.executable, __file__, str(db), threads, str(figure)], check=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        out[threads] = json.loads(figure.read_text())
    for path in tmp.iterdir():
        path.unlink()
    return out


def replay_child(db: str, threads: str, out_path: str) -> None:
    """In this process: load the last session and replay it once; CPU, wall and peak RSS to out_path."""
    started, cpu = time.perf_counter(), time.process_time()
    with Store.open(db) as store:
        report = replay_recording(load_recording(store, "last"), parse_target("sim:reference"), threads=threads)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump({"reproduced": report.reproduced, "cpu_seconds": round(cpu, 2), "seconds": round(seconds, 2),
                   "cpu_us_per_call": round(cpu / max(1, len(report.recording.calls)) * 1e6, 2),
                   "peak_rss_mb": peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF)),
                   "load_average": round(os.getloadavg()[0], 1)}, out)


if __name__ == "__main__":
    replay_child(*sys.argv[1:4])
