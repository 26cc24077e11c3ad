"""Where a thread-faithful in-process call's time goes (issue 12 item 3), on replay_bench's
two-thread session (strictly alternating sends against sim:reference): how often its
recorded order forces a hand-over; the planning before the run (`order.happens_before`,
`lane_plan.plan_lanes`); the lanes alone, running a unit that does nothing, cooperative
(sim:) and free (py:), with their context switches per call; and the whole faithful replay;
each beside the two batons of replay_bench in the same run. CPU microseconds per call
(process time) beside wall rates and the load average: the machine is shared.

By hand: python bench/sched_bench.py [SENDS]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
from pathlib import Path
from time import perf_counter, process_time

from measure import rate
from replay_bench import baton_handoffs, gate_baton_handoffs, record_alternating
from drvtape.replay import load_recording, replay_recording
from drvtape.replay.order import happens_before
from drvtape.runtime.coop import Coordinator
from drvtape.runtime.handover import NATIVE
from drvtape.runtime.lane_plan import plan_lanes
from drvtape.runtime.schedule import Schedule, run_faithful
from drvtape.runtime.targets import parse_target
from drvtape.store import Store


def measured(count: int, fn, *args, **kwargs) -> dict:
    """Wall rate, CPU us per item and context switches per item of one call of fn (count items)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = process_time(), perf_counter()
    fn(*args, **kwargs)
    wall, cpu = perf_counter() - wall, process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"per_s": rate(count, wall), "cpu_us": round(cpu / count * 1e6, 2),
            "voluntary_switches": round((after.ru_nvcsw - before.ru_nvcsw) / count, 2),
            "involuntary_switches": round((after.ru_nivcsw - before.ru_nivcsw) / count, 2)}


def best(runs: list[dict]) -> dict:
    """The least disturbed of several runs: the one of least CPU per item."""
    return min(runs, key=lambda r: r["cpu_us"])


def forced_handoffs(calls) -> dict:
    """How many calls follow a call of another thread, and of those how many were recorded after
    that call's return (the replay must then hand over: the baton bounds it)."""
    afters, _ = happens_before(calls)
    changes = [i for i in range(1, len(calls)) if calls[i].thread != calls[i - 1].thread]
    forced = sum(1 for i in changes if i - 1 in afters[i])
    return {"calls": len(calls), "thread_changes": len(changes), "after_the_other_threads_return": forced,
            "forced_handoffs_per_call": round(forced / len(calls), 4)}


def bench_sched(tmp: Path, sends: int, rounds: int = 3) -> dict:
    load_at_start = round(os.getloadavg()[0], 2)
    with Store.open(str(tmp / "sched.db"), create=True) as store:
        recording = load_recording(store, record_alternating(store, sends, 2))
    calls = recording.calls
    n = len(calls)
    threads, labels = [c.thread for c in calls], [c.seq for c in calls]
    afters, _ = happens_before(calls)

    def lanes(cooperative: bool) -> None:
        run_faithful(Schedule(threads, labels, afters, lambda i: None), Coordinator(), cooperative=cooperative,
                     timeout=5)

    target = parse_target("sim:reference")
    runs: dict[str, list[dict]] = {}
    for _ in range(rounds):  # alternated: a burst of load falls on every figure alike
        for name, fn, args in (("happens_before", happens_before, (calls,)),
                               ("plan_lanes", plan_lanes, (threads, afters)),
                               ("lanes_cooperative_noop", lanes, (True,)), ("lanes_free_noop", lanes, (False,)),
                               ("lock_baton", baton_handoffs, (n,)), ("gate_baton", gate_baton_handoffs, (n,)),
                               ("replay_faithful", replay_recording, (recording, target))):
            runs.setdefault(name, []).append(measured(n, fn, *args))
    out = {"what": "per call of a strictly alternating two-thread session: CPU us (process time), wall rate, "
                   f"context switches; the least CPU of {rounds} alternated runs",
           "session": forced_handoffs(calls), "native_gate": NATIVE}
    out.update({name: best(r) for name, r in runs.items()})
    out["load_average_1m"] = [load_at_start, round(os.getloadavg()[0], 2)]
    return out


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="drvtape-sched-") as folder:
        print(json.dumps(bench_sched(Path(folder), int(sys.argv[1]) if len(sys.argv) > 1 else 50_000), indent=2))
