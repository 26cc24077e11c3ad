"""The in-process hook (issue 2): median ns per DRV_USER+1 call to an open sim:reference
instance through Recorder.wrap, beside the same call to a bare ReferenceDriver, and every
event checked in the database after close(); the same in each durability mode; and the
caller's instructions per call under valgrind, which load cannot move (issue 16 item 3)."""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from measure import BATCH, batch_ns, gc_clock, step, timed
from sample_rows import DRV_USER_1, open_instance
from drvtape.recorder import call_log
from drvtape.recorder.hook import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store

TARGET_HOOKED_MEDIAN_NS = 3_000


def bench_hook(tmp: Path, calls: int) -> dict:
    """Median ns per DRV_USER+1 call to an open ReferenceDriver instance: bare, then hooked."""
    batches = max(1, calls // BATCH)
    bare = ReferenceDriver()
    driver_id, hdrvr, _ = open_instance(bare)
    args = (driver_id, hdrvr, DRV_USER_1, 0, 0)
    with step("hook: bare calls", batches) as advance:
        bare_ns = []
        for _ in range(batches):
            bare_ns.append(batch_ns(bare, args))
            advance()

    db = tmp / "hook.db"
    recorder = Recorder(str(db), driver="sim:reference", target="sim:reference")
    hooked = recorder.wrap(ReferenceDriver())
    driver_id, hdrvr, opening = open_instance(hooked)
    args = (driver_id, hdrvr, DRV_USER_1, 0, 0)
    with step("hook: hooked calls", batches) as advance, gc_clock() as gc_s:
        hooked_ns = []
        for _ in range(batches):
            hooked_ns.append(batch_ns(hooked, args))
            advance()
    with Store.open(str(db)) as store:  # a second connection: what the writer thread has committed so far
        before_close = store.event_count()
    close_s, _ = timed(recorder.close)

    with Store.open(str(db)) as store:
        stored = store.event_count()
    expected = 2 * (opening + batches * BATCH) + 1  # a call and a return per message, then `end`
    bare_med, hooked_med = statistics.median(bare_ns), statistics.median(hooked_ns)
    return {
        "what": "ns per DriverProc call (DRV_USER+1 to an open sim:reference instance), median of "
                "batches (a batch's median hides stalls: hook_sustained times every call); "
                f"{batches} batches of {BATCH}; recorder writing to a SQLite file",
        "calls": batches * BATCH,
        "bare_median_ns": round(bare_med, 1),
        "hooked_median_ns": round(hooked_med, 1),
        "hooked_mean_ns": round(statistics.fmean(hooked_ns), 1),
        "overhead_ns": round(hooked_med - bare_med, 1),
        "ratio": round(hooked_med / bare_med, 2),
        "gc_share_of_hooked": round(gc_s["s"] * 1e9 / sum(hooked_ns) / BATCH, 3),
        "events_stored_before_close": before_close,
        "close_ms": round(close_s * 1e3, 1),
        "events_expected": expected,
        "events_stored": stored,
        "all_events_stored": stored == expected,
        "target_hooked_median_ns": TARGET_HOOKED_MEDIAN_NS,
        "meets_target": hooked_med < TARGET_HOOKED_MEDIAN_NS and stored == expected,
    }


def bench_durability(tmp: Path, calls: int) -> dict:
    """Median ns per hooked call in each durability mode (the bare call is the baseline)."""
    bare = ReferenceDriver()
    driver_id, hdrvr, _ = open_instance(bare)
    bare_med = statistics.median(batch_ns(bare, (driver_id, hdrvr, DRV_USER_1, 0, 0), 100) for _ in range(20))
    modes = {}
    for mode, n in (("batched", calls), ("process", calls // 20), ("machine", calls // 200)):
        batch = max(10, min(BATCH, n // 10))
        recorder = Recorder(str(tmp / f"durability-{mode}.db"), driver="sim:reference", durability=mode)
        hooked = recorder.wrap(ReferenceDriver())
        driver_id, hdrvr, _ = open_instance(hooked)
        with step(f"durability: {mode}", max(1, n // batch)) as advance:
            per_call = []
            for _ in range(max(1, n // batch)):
                per_call.append(batch_ns(hooked, (driver_id, hdrvr, DRV_USER_1, 0, 0), batch))
                advance()
        recorder.close()
        median = statistics.median(per_call)
        modes[mode] = {"calls": max(1, n // batch) * batch, "hooked_median_ns": round(median, 1),
                       "overhead_ns": round(median - bare_med, 1), "ratio_to_bare": round(median / bare_med, 1)}
    return {
        "what": "ns per hooked DriverProc call in each durability mode (two events per call), "
                "median over batches; SQLite WAL file on this machine's disk",
        "bare_median_ns": round(bare_med, 1),
        **modes,
    }


INSTRUCTION_RUNS = (2_000, 22_000)  # calls in the two runs whose difference is counted


def calls_child(mode: str, calls: int, db: str) -> None:
    """The valgrind run's program: `calls` DRV_USER+1 calls, bare, through the C log
    ("hooked") or the Python one ("hooked_python"), which never fills a batch (the writer's
    thread would be counted apart anyway)."""
    proc = ReferenceDriver()
    if mode != "bare":
        if mode == "hooked_python":
            call_log.NativeLog = None
        recorder = Recorder(db, driver="sim:reference", batch_size=1 << 21, max_pending=1 << 22, flush_interval=1e3)
        proc = recorder.wrap(proc)
    driver_id, hdrvr, _ = open_instance(proc)
    for _ in itertools.repeat(None, calls):
        proc(driver_id, hdrvr, DRV_USER_1, 0, 0)


def main_thread_instructions(tmp: Path, mode: str, calls: int) -> int:
    out = tmp / f"callgrind-{mode}-{calls}"
    db = tmp / f"instructions-{mode}-{calls}.db"
    subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}.%p",
                    sys.executable, __file__, "--calls-child", mode, str(calls), str(db)],
                   check=True, capture_output=True, timeout=1800)
    main = next(tmp.glob(f"{out.name}.*-01"))  # thread 1: the caller's
    totals = [line for line in main.read_text().splitlines() if line.startswith(("summary:", "totals:"))]
    return int(totals[0].split()[1])


def bench_hook_instructions(tmp: Path, quick: bool = False) -> dict:
    """Instructions per DRV_USER+1 call on the caller's thread (valgrind's callgrind, the
    difference of two runs' counts): bare, through the C log, through the Python log."""
    if quick:  # six runs under valgrind take minutes, mostly Python's start-up
        return {"skipped": "not with --quick"}
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed"}
    low, high = INSTRUCTION_RUNS
    per_call = {mode: round((main_thread_instructions(tmp, mode, high) - main_thread_instructions(tmp, mode, low))
                            / (high - low))
                for mode in ("bare", "hooked", "hooked_python")}
    return {"what": "instructions per DriverProc call on the calling thread (callgrind, the difference of "
                    f"{low:,} and {high:,} calls): bare sim:reference, hooked through the C log, hooked "
                    "through the Python log (the durable modes' and the fallback's)",
            **{f"{mode}_instructions_per_call": n for mode, n in per_call.items()},
            "hooked_added": per_call["hooked"] - per_call["bare"],
            "hooked_python_added": per_call["hooked_python"] - per_call["bare"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the hook's instructions per call (run by bench_hook_instructions)")
    parser.add_argument("--calls-child", nargs=3, metavar=("MODE", "CALLS", "DB"), required=True)
    mode, calls, db = parser.parse_args().calls_child
    calls_child(mode, int(calls), db)
