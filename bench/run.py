"""drvtape benchmarks: `python bench/run.py [--json] [--quick] [--scale N]`.

Every figure is a ratio or a rate measured side by side in this one run (the thing
measured against a baseline doing the same work), with the sizes used and the target
from issue 2 beside it. Nothing here fails on a slow machine: it reports.

This file parses the arguments, runs the figures and reports them (JSON or a table); each
figure is measured in its own bench/<area>_bench.py, beside its baseline.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from appends_bench import bench_appends
from demo_bench import bench_demo
from dll_bench import bench_dll
from measure import progress
from query_bench import EVENTS_PER_SESSION, bench_query
from recorder_hook_bench import bench_durability, bench_hook, bench_hook_instructions
from recorder_stream_bench import bench_sustained_hook
from hook_memory_bench import bench_hook_memory
from replay_bench import bench_replay
from replay_load_bench import bench_replay_loading
from sched_bench import bench_sched
from replaywin_bench import bench_replay_window
from stream_bench import bench_streaming
from listing_bench import bench_listing
from bulk_bench import bench_bulk
from native_bench import bench_native
from export_bench import bench_export_stages
from import_bench import bench_import
from drvtape import __version__

FULL = dict(hook_calls=200_000, append_rows=200_000, replay_sends=100_000, faithful_sends=100_000,
            events=1_000_000, dll_calls=100_000, memory_frames=2_000, stream_rate=100_000, stream_s=60,
            listing_sessions=10_000, listing_pairs=50)
QUICK = dict(hook_calls=20_000, append_rows=20_000, replay_sends=10_000, faithful_sends=4_000,
             events=50_000, dll_calls=10_000, memory_frames=200, stream_rate=100_000, stream_s=2,
             listing_sessions=500, listing_pairs=10)


def run(quick: bool, events: int | None, only: set[str] | None = None) -> dict:
    sizes = dict(QUICK if quick else FULL)
    if events is not None:
        sizes["events"] = events
    figures: dict = {
        "bench": "drvtape",
        "drvtape_version": __version__,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "quick": quick,
        "sizes": sizes,
    }
    jobs = {
        "hook": lambda tmp: bench_hook(tmp, sizes["hook_calls"]),
        "hook_instructions": lambda tmp: bench_hook_instructions(tmp, quick),
        "hook_sustained": lambda tmp: bench_sustained_hook(tmp, sizes["stream_rate"], sizes["stream_s"]),
        "hook_memory": lambda tmp: bench_hook_memory(tmp, sizes["memory_frames"]),
        "durability": lambda tmp: bench_durability(tmp, sizes["hook_calls"]),
        "appends": lambda tmp: bench_appends(tmp, sizes["append_rows"]),
        "native_insert": lambda tmp: bench_native(tmp, sizes["append_rows"]),
        "replay": lambda tmp: bench_replay(tmp, sizes["replay_sends"], sizes["faithful_sends"]),
        "sched": lambda tmp: bench_sched(tmp, sizes["faithful_sends"]),
        "replay_loading": lambda tmp: bench_replay_loading(tmp, sizes["events"]),
        "replay_window": lambda tmp: bench_replay_window(tmp, sizes["events"]),
        "query": lambda tmp: bench_query(tmp, sizes["events"]),
        "streaming": lambda tmp: bench_streaming(tmp, sizes["events"]),
        "listing": lambda tmp: bench_listing(tmp, sizes["listing_sessions"], sizes["listing_pairs"]),
        "bulk": lambda tmp: bench_bulk(tmp, sizes["events"]),
        "export_stages": lambda tmp: bench_export_stages(tmp, sizes["events"]),
        "import_stages": lambda tmp: bench_import(tmp, sizes["events"]),
        "dll": lambda tmp: bench_dll(sizes["dll_calls"]),
        "demo": lambda tmp: bench_demo(),
    }
    if only is not None and only - jobs.keys():
        raise ValueError(f"no figure {', '.join(sorted(only - jobs.keys()))} (the figures: {', '.join(jobs)})")
    started = time.perf_counter()
    with progress, tempfile.TemporaryDirectory(prefix="drvtape-bench-") as tmp:
        for name, job in jobs.items():
            if only is not None and name not in only:
                continue
            gc.collect()  # no garbage of an earlier figure is collected on this one's clock
            figure_started = time.perf_counter()
            try:
                figures[name] = job(Path(tmp))
            except Exception as exc:  # noqa: BLE001 - report the figure as missing, keep the others
                figures[name] = {"error": f"{type(exc).__name__}: {exc}",
                                 "traceback": traceback.format_exc(limit=-3)}
            # a line per figure on stderr: how far a long run (--scale 10000000) has got
            progress.console.print(f"bench: {name} done in {time.perf_counter() - figure_started:.0f} s",
                                   markup=False, highlight=False)
    figures["total_s"] = round(time.perf_counter() - started, 1)
    return figures


def print_table(figures: dict) -> None:
    console = Console()
    console.print(f"drvtape {figures['drvtape_version']} bench on {figures['machine']} ({figures['timestamp']}), "
                  f"Python {figures['python']}, SQLite {figures['sqlite']}, total {figures['total_s']} s")
    table = Table("figure", "measure", "value")
    for name, fig in figures.items():
        if not isinstance(fig, dict) or name == "sizes":
            continue
        for key, value in _flatten(fig):
            table.add_row(name, key, f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool)
                          else str(value))
        table.add_section()
    console.print(table)


def _flatten(d: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in d.items():
        if key in ("what", "traceback"):
            continue
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test, under 30 s)")
    parser.add_argument("--events", "--scale", type=int, default=None,
                        help=f"events in the query and streaming figures (default {FULL['events']:,}; {QUICK['events']:,} "
                             "with --quick; --scale 10000000 for the 10M run, by hand: not in CI)")
    parser.add_argument("--only", metavar="FIGURE,...", default=None,
                        help="run only these figures (e.g. query,streaming: the ones --scale sizes)")
    args = parser.parse_args(argv)
    if args.events is not None and args.events < EVENTS_PER_SESSION:
        parser.error(f"--events must be at least {EVENTS_PER_SESSION}")
    only = None if args.only is None else set(args.only.split(","))
    try:
        figures = run(args.quick, args.events, only)
    except ValueError as exc:
        parser.error(str(exc))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
