"""replay_recording against sim:reference (issue 2) in messages/s, serial and thread-faithful,
beside a bare loop making the same calls and, for the 2-thread session, a two-thread baton;
with the CPU microseconds per message of the replay and per hand-over of the baton (issue 12
item 3: on a shared machine the wall rate says as much about the other processes). Two
batons: a Lock each (baton_*), and the lanes' own gates (gate_baton_*, runtime/handover.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from time import perf_counter, process_time

from measure import gc_clock, rate, step, timed
from drvtape.recorder.workload import parse_workload, record_workload
from drvtape.replay import replay_recording
from drvtape.replay.call_table import load_table
from drvtape.replay.streamed import StreamedCalls, streamed_recording
from drvtape.runtime.handover import closed_gate
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.runtime.targets import parse_target
from drvtape.store import Store

TARGET_SERIAL_MESSAGES_PER_S = 200_000
TARGET_FAITHFUL_MESSAGES_PER_S = 100_000


def record_alternating(store: Store, sends: int, threads: int) -> str:
    """Record a workload against sim:reference: one instance per thread, `sends` DRV_USER+1
    sends alternating between them, then the closes. Returns the session id."""
    names = [f"t{k}" for k in range(threads)]
    steps = [f'[[steps]]\naction = "open"\ninstance = "{n}"\nthread = "{n}"\n' for n in names]
    steps += [f'[[steps]]\naction = "send"\ninstance = "{names[i % threads]}"\nmsg = "DRV_USER+1"\n'
              f'lparam1 = {i}\nthread = "{names[i % threads]}"\n' for i in range(sends)]
    steps += [f'[[steps]]\naction = "close"\ninstance = "{n}"\nthread = "{n}"\n' for n in names]
    workload = parse_workload("\n".join(steps), "bench")
    return record_workload(workload, parse_target("sim:reference"), store).session_id


def baton_handoffs(n: int) -> float:
    """Seconds for n hand-overs between two threads, each waking the other through its own
    lock and then blocking on its own: the least a strictly alternating two-thread replay can
    cost in this process."""
    mine, theirs = threading.Lock(), threading.Lock()
    mine.acquire()
    theirs.acquire()

    def other() -> None:
        for _ in range(n // 2):
            theirs.acquire()
            mine.release()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    start = perf_counter()
    for _ in range(n // 2):
        theirs.release()
        mine.acquire()
    took = perf_counter() - start
    thread.join()
    return took


def gate_baton_handoffs(n: int) -> float:
    """Seconds for n hand-overs between two threads through the lanes' gates
    (drvtape/runtime/handover.py): each opens the other's and waits at its own in one pass_to,
    the GIL let go first. The least the lanes' hand-over can cost; without the C module, the
    Lock-made gate (about baton_handoffs)."""
    mine, theirs = closed_gate(), closed_gate()

    def other() -> None:
        theirs.acquire()
        for _ in range(n // 2 - 1):
            theirs.pass_to(mine)
        mine.release()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    start = perf_counter()
    for _ in range(n // 2):
        mine.pass_to(theirs)
    took = perf_counter() - start
    thread.join()
    return took


def cpu_us_per(count: int, fn, *args, **kwargs) -> tuple[float, object]:
    """(CPU microseconds of this process per item, result) of one call of fn: count items."""
    start = process_time()
    result = fn(*args, **kwargs)
    return (process_time() - start) / count * 1e6, result


def bench_replay(tmp: Path, sends: int, faithful_sends: int, rounds: int = 3) -> dict:
    """replay_recording against sim:reference (serial; thread-faithful on a 2-thread session)
    in messages/s, beside a bare loop making the same calls to a fresh ReferenceDriver and, for
    the 2-thread session, a two-thread baton making as many hand-overs; best of `rounds`, the
    replay and its baselines alternated (the machine is shared: the best is the least disturbed)."""
    load_at_start = round(os.getloadavg()[0], 2)  # the machine is shared: how busy it was says how to read these
    target = parse_target("sim:reference")
    out = {"what": "messages/s replaying a recorded session against sim:reference, best of "
                   f"{rounds}: replay_* as `drvtape replay` runs it (a session of 50,000 calls or more is "
                   "streamed: read again in each run, the read counted), loaded_replay_* with the session "
                   "loaded whole first (the load not counted); bare = a loop calling a fresh ReferenceDriver "
                   "with the same calls; baton = two "
                   "threads handing over through a lock each, once per message; gate_baton = the same through "
                   "the lanes' gates (runtime/handover.py)"}
    with Store.open(str(tmp / "replay.db"), create=True) as store:
        for mode, n, threads in (("serial", sends, 1), ("faithful", faithful_sends, 2)):
            with step(f"replay: record {n} sends on {threads} thread(s)"):
                session = store.resolve(record_alternating(store, n, threads))
                loaded = load_table(session.header, store.stream_rows(session.pk), store.blobs)
                # as load_recording has it: a big session streamed, else the loaded one itself
                recording = streamed_recording(store, session.pk, session.header) or loaded
            calls = [(c.driver_id, c.hdrvr, c.msg, c.lparam1, c.lparam2) for c in loaded.calls]
            replay_s, bare_s, baton_s, gc_share, replay_cpu, baton_cpu = [], [], [], [], [], []
            gate_s, gate_cpu, loaded_s, loaded_cpu = [], [], [], []
            with step(f"replay: {mode}, {len(calls)} messages", rounds) as advance:
                for _ in range(rounds):
                    with gc_clock() as gc_s:
                        cpu, (seconds, report) = cpu_us_per(len(calls), timed, replay_recording, recording, target,
                                                            threads=mode)
                    replay_s.append(seconds)
                    replay_cpu.append(cpu)
                    cpu, (seconds, _) = cpu_us_per(len(calls), timed, replay_recording, loaded, target, threads=mode)
                    loaded_s.append(seconds)
                    loaded_cpu.append(cpu)
                    gc_share.append(gc_s["s"] / seconds)
                    bare = ReferenceDriver()
                    bare_s.append(timed(lambda: [bare(*c) for c in calls])[0])
                    if threads > 1:
                        cpu, seconds = cpu_us_per(len(calls), baton_handoffs, len(calls))
                        baton_s.append(seconds)
                        baton_cpu.append(cpu)
                        cpu, seconds = cpu_us_per(len(calls), gate_baton_handoffs, len(calls))
                        gate_s.append(seconds)
                        gate_cpu.append(cpu)
                    advance()
            out[mode] = {
                "messages": len(calls),
                "recorded_threads": recording.threads,
                "streamed": isinstance(recording.calls, StreamedCalls),
                "outcome": report.runs[0].kind,
                "reproduced": report.reproduced,
                "replay_messages_per_s": rate(len(calls), min(replay_s)),
                "replay_cpu_us_per_message": round(min(replay_cpu), 2),
                "loaded_replay_messages_per_s": rate(len(calls), min(loaded_s)),
                "loaded_replay_cpu_us_per_message": round(min(loaded_cpu), 2),
                "bare_messages_per_s": rate(len(calls), min(bare_s)),
                "replay_over_bare": round(min(bare_s) / min(replay_s), 4),
                "gc_share_of_replay": round(min(gc_share), 3),
            }
            if baton_s:
                out[mode]["baton_handoffs_per_s"] = rate(len(calls), min(baton_s))
                out[mode]["baton_cpu_us_per_handoff"] = round(min(baton_cpu), 2)
                out[mode]["replay_over_baton"] = round(min(baton_s) / min(replay_s), 3)
                out[mode]["gate_baton_handoffs_per_s"] = rate(len(calls), min(gate_s))
                out[mode]["gate_baton_cpu_us_per_handoff"] = round(min(gate_cpu), 2)
    out["load_average_1m"] = [load_at_start, round(os.getloadavg()[0], 2)]  # at the start and end of this figure
    out["target_serial_messages_per_s"] = TARGET_SERIAL_MESSAGES_PER_S
    out["target_faithful_messages_per_s"] = TARGET_FAITHFUL_MESSAGES_PER_S
    out["meets_target"] = (out["serial"]["replay_messages_per_s"] >= TARGET_SERIAL_MESSAGES_PER_S
                           and out["serial"]["reproduced"])
    out["faithful_meets_target"] = (out["faithful"]["replay_messages_per_s"] >= TARGET_FAITHFUL_MESSAGES_PER_S
                                    and out["faithful"]["reproduced"])
    return out
