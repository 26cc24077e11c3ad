"""Issue 12: a driver that hands the same dwDriverId to consecutive opens, replayed
thread-faithfully against the DLL: every DRV_CLOSE gets an id that is open, 20 of 20."""
import random

from drvtape.replay import replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema.outcome import COMPLETED, Outcome, OutcomeKind
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


EXIT_SPIN_HUNG = [  # (seq, thread, msg, driver_id, result, returned_at): the recorded hang of bug 1
    (1, 0, DRV_LOAD, 0, 1, 2), (3, 1, DRV_OPEN, 0, 0, 5), (4, 0, 0xB, 0, None, None)]
EXIT_SPIN_CLEAN = [  # the same calls, recorded with the open done before DRV_EXITSESSION began
    (1, 0, DRV_LOAD, 0, 1, 2), (3, 1, DRV_OPEN, 0, 0x100, 4), (5, 0, 0xB, 0, 0, 6), (7, 0, DRV_CLOSE, 0x100, 1, 8)]


def exit_spin_recording(rows, outcome) -> Recording:
    return Recording(None, [RecordedCall(seq, t, msg, d, 0x10, 0, 0, None, r, ret) for seq, t, msg, d, r, ret in rows],
                     outcome)


def test_the_two_thread_hang_is_still_reproduced_and_a_clean_two_thread_session_does_not_hang(driver):
    dll = parse_target("dll:" + driver("exit_spin"))
    hung = exit_spin_recording(EXIT_SPIN_HUNG, Outcome(OutcomeKind.HANG, seq=4, msg=0xB))
    report = replay_recording(hung, dll, repeat=3, timeout=1.0)
    assert report.reproduced, report.runs
    clean = replay_recording(exit_spin_recording(EXIT_SPIN_CLEAN, COMPLETED), dll, repeat=3, timeout=10.0)
    assert clean.runs == [COMPLETED] * 3, clean.runs
