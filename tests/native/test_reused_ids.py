"""Issue 12: a driver that hands the same dwDriverId to consecutive opens, replayed
thread-faithfully against the DLL: every DRV_CLOSE gets an id that is open, 20 of 20."""
import random

from drvtape.replay import replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema.outcome import COMPLETED
from drvtape.schema.recording import RecordedCall, Recording

DRV_LOAD, DRV_OPEN, DRV_CLOSE, DRV_USER = 1, 3, 4, 0x4000
SLOTS = 16


def recorded_rounds(threads: int, rounds: int, seed: int) -> Recording:
    """A recording of `rounds` open/user/close rounds on each of `threads` threads, with one
    instance held open by thread 0, interleaved at random: reused_id.c's model decides every
    result when its call returns (the driver works under one lock)."""
    rng = random.Random(seed)
    programs = {0: [DRV_LOAD, DRV_OPEN]} | {t: [DRV_OPEN, DRV_USER, DRV_CLOSE] * rounds for t in range(1, threads)}
    instance: dict[int, int] = {}  # thread -> the id its last open returned
    in_flight: dict[int, list] = {}  # thread -> [seq, msg, driver_id]
    free = set(range(SLOTS))
    calls, seq = [], 0
    while any(programs.values()) or in_flight:
        seq += 1
        idle = [t for t, p in programs.items() if p and t not in in_flight]
        if idle and (not in_flight or rng.random() < 0.5):
            t = rng.choice(idle)
            msg = programs[t].pop(0)
            in_flight[t] = [seq, msg, instance.get(t, 0) if msg in (DRV_USER, DRV_CLOSE) else 0]
            continue
        t = rng.choice(sorted(in_flight))
        call_seq, msg, driver_id = in_flight.pop(t)
        slot = driver_id // 0x100 - 1
        if msg == DRV_OPEN:
            slot = min(free)
            free.remove(slot)
            result = instance[t] = (slot + 1) * 0x100
        elif msg == DRV_CLOSE:
            free.add(slot)
            result = 1
        else:
            result = 1
        calls.append(RecordedCall(call_seq, t, msg, driver_id, 0x10, 0, 0, None, result, seq))
    calls.sort(key=lambda c: c.seq)
    return Recording(None, calls, COMPLETED)


def test_reused_ids_replay_thread_faithfully_20_of_20(driver):
    recording = recorded_rounds(threads=4, rounds=8, seed=12)
    assert len({c.result for c in recording.calls if c.msg == DRV_OPEN}) < 8  # ids are reused
    report = replay_recording(recording, parse_target("dll:" + driver("reused_id")), repeat=20)
    assert report.runs == [COMPLETED] * 20
