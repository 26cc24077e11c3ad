"""Run one drvtape command in this process, then write its exit code, wall and CPU time
(start-up included) and peak RSS as JSON to the file named first: `python bench/peak_rss.py OUT.json --db x.db import f.jsonl`.

A fresh process per command, so the peak is that command's own (bench/stream_bench.py and
tests/test_streaming_memory.py use it).
"""

import json
import resource
import sys
import time
from pathlib import Path

from drvtape.cli import main


def peak_rss_mb(usage: resource.struct_rusage) -> float:
    """This program's own peak RSS. Linux carries ru_maxrss over exec from the process that
    forked it, so a child of a big pytest worker reported the worker's size: VmHWM is the
    high-water mark of this program's own address space."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(usage.ru_maxrss / 1024, 1)  # kilobytes on Linux, bytes on macOS (not a platform here)


def run(out_path: str, args: list[str]) -> None:
    started = time.perf_counter()
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump({"code": code, "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                   "peak_rss_mb": peak_rss_mb(usage)}, out)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
