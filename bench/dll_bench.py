"""The dll figure: replay through drvhost (under Wine off Windows), the tap's cost, `tap run`,
replay and the tap with memory, and the hook beside the tap. Each part is another module's
(bench/dllhost_bench.py, memory_bench.py, tap_memory_bench.py, hook_bench.py); a part that
fails is reported as an `error` string beside the others."""

from __future__ import annotations

from collections.abc import Callable

import dllhost_bench
import hook_bench
import memory_bench
import tap_memory_bench
from measure import step

TARGET_MESSAGES_PER_S = 1_000_000
MEMORY_FRAMES = 500


def guarded(part: Callable[..., dict], *args) -> dict:
    """part(*args), or {"error": ...} if it raised."""
    try:
        return part(*args)
    except Exception as exc:  # noqa: BLE001 - one part failing leaves the others to report
        return {"error": f"{type(exc).__name__}: {exc}"}


def bench_dll(calls: int) -> dict:
    """Replay through drvhost, serial and on 4 threads, then the tap's and the hook's parts."""
    out: dict = {"target_messages_per_s": TARGET_MESSAGES_PER_S}
    with step(f"dll: replay {calls} messages through drvhost"):
        out.update(guarded(dllhost_bench.bench_dll_replay, calls))
    if "error" not in out:
        out["meets_target"] = out["messages_per_s"] >= TARGET_MESSAGES_PER_S
    out["tap_overhead"] = guarded(dllhost_bench.bench_tap_overhead, calls)
    out["tap_run"] = guarded(dllhost_bench.bench_tap_run)
    with step(f"dll: replay {MEMORY_FRAMES} frame decodes with memory"):
        out["replay_with_memory"] = guarded(memory_bench.bench_memory_replay, MEMORY_FRAMES)
    with step(f"dll: the tap with memory to capture ({calls} messages without, decompresses, converts)"):
        out["tap_memory"] = guarded(tap_memory_bench.bench_tap_memory, calls)
    with step(f"dll: the hook beside the tap ({calls} messages through winmm)"):
        out["hook_run"] = guarded(hook_bench.bench_hook, calls)
    return out
