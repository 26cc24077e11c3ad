"""Run one drvtape command in this process, then write its exit code, wall and CPU time
(start-up included) and peak RSS as JSON to the file named first: `python bench/peak_rss.py OUT.json --db x.db import f.jsonl`.

A fresh process per command, so the peak is that command's own (bench/stream_bench.py and
tests/test_streaming_memory.py use it).
"""

import json
import resource
import sys
import time

from drvtape.cli import main


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
                   "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}, out)  # Linux: ru_maxrss in kilobytes


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
