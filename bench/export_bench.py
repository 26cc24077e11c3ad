"""Where `drvtape export` spends its CPU (issue 16 item 1): CPU microseconds per event of each
of its stages, timed alone in this process on a database of `events` events (sessions of
1,000 plain call/return pairs, bench/stream_bench.write_db), at most STAGE_EVENTS of them:

- fetch: Store.stream_rows of every session, in one snapshot (what export reads);
- lines: dump_rows over those rows, fetched beforehand (a session at a time);
- write: the lines written to a file as export writes them (write_output).

Beside them, the load average: on a machine shared with other work CPU time varies much
less than wall time. Run by hand: `python bench/export_bench.py 200000`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from drvtape.cli.output import write_output
from drvtape.formats.jsonl import dump_rows
from drvtape.store import Store
from stream_bench import write_db

STAGE_EVENTS = 200_000


def _cpu_us(events: int, work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return round((time.process_time() - started) / events * 1e6, 2)


def bench_export_stages(tmp: Path, events: int) -> dict:
    """CPU us/event of export's stages (see the module's docstring)."""
    tmp = tmp / "export"
    tmp.mkdir(exist_ok=True)
    db, out = tmp / "export.db", tmp / "out.jsonl"
    events = write_db(db, min(events, STAGE_EVENTS))
    load_before = os.getloadavg()
    with Store.open(db) as store, store.snapshot():
        chosen = store.sessions()
        fetch = _cpu_us(events, lambda: [sum(1 for _ in store.stream_rows(s.pk)) for s in chosen])
        # one session's rows at a time, as export holds them (each session's share summed
        # unrounded: rounded, a session of 1,000 of 200,000 events counted 0.0 or 0.01)
        lines_us, write_lines = 0.0, []
        for stored in chosen:
            rows = list(store.stream_rows(stored.pk))
            started = time.process_time()
            write_lines.extend(dump_rows(stored.header, rows, store.blobs, set()))
            lines_us += (time.process_time() - started) / events * 1e6
        write = _cpu_us(events, lambda: write_output(str(out), (line + "\n" for line in write_lines)))
    load_after = os.getloadavg()
    for path in tmp.iterdir():
        path.unlink()
    return {"what": "export's stages alone, CPU us/event", "events": events,
            "load_average_1m": [round(load_before[0], 2), round(load_after[0], 2)],
            "fetch_stream_rows": fetch, "lines_dump_rows": round(lines_us, 2), "write_output": write,
            "sum": round(fetch + lines_us + write, 2)}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="drvtape-export-bench-") as folder:
        for size in [int(arg) for arg in sys.argv[1:]] or [STAGE_EVENTS]:
            print(json.dumps(bench_export_stages(Path(folder), size), indent=2), flush=True)
