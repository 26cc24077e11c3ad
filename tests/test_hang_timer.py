"""The hang timer of non-cooperative runs counts the time the process could run (docs/replay.md)."""

import time

from drvtape.runtime.coop import Coordinator
from drvtape.runtime.hang_timer import COARSE_TICK, FINE_TICK, HangTimer
from drvtape.runtime.schedule import Unit, run_schedule


def count(timer: HangTimer, in_flight: dict, took: float, *, timed_out: bool = True) -> bool:
    return timer.expired(in_flight, timer.tick(), took, timed_out)


def test_a_call_in_flight_the_whole_timeout_expires_on_time_ticks():
    timer = HangTimer(0.1)
    assert not count(timer, {"a": 7}, COARSE_TICK)  # first seen: its time starts now
    ticks = 0
    while not count(timer, {"a": 7}, timer.tick()):
        ticks += 1
    assert 0.1 / COARSE_TICK - 1 <= ticks <= 0.1 / FINE_TICK


def test_late_ticks_count_at_most_twice_the_shortest_tick():
    timer = HangTimer(1.0)
    count(timer, {"a": 1}, COARSE_TICK)
    count(timer, {"a": 1}, COARSE_TICK)  # the shortest coarse tick: 10 ms
    for _ in range(20):  # a loaded machine: each 10 ms tick came back after 200 ms (4 s of wall time)
        assert not count(timer, {"a": 1}, 0.2)  # counted 20 ms each: 0.41 s of a 1 s timeout


def test_a_notified_wait_counts_what_it_took_and_a_new_call_starts_from_zero():
    timer = HangTimer(0.05)
    count(timer, {"a": 1}, COARSE_TICK)
    assert not count(timer, {"a": 1}, 0.04, timed_out=False)
    assert not count(timer, {"a": 2}, COARSE_TICK)  # lane a moved on: its new call starts at 0
    assert not count(timer, {"a": 2, "b": 9}, 0.04, timed_out=False)
    assert count(timer, {"a": 2, "b": 9}, 0.02, timed_out=False)  # a: 0.06 s in flight


def test_the_tick_gets_fine_after_an_eighth_of_the_timeout():
    timer = HangTimer(0.08)
    count(timer, {"a": 1}, COARSE_TICK)
    assert timer.tick() == COARSE_TICK
    count(timer, {"a": 1}, COARSE_TICK)
    assert timer.tick() == FINE_TICK
    count(timer, {}, COARSE_TICK)  # nothing in flight
    assert timer.tick() == COARSE_TICK


def test_a_spinning_python_call_is_a_hang_within_the_timeout_and_a_slow_one_is_not():
    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    units = [Unit("a", lambda: spin(0.05), 1), Unit("b", lambda: spin(0.05), 2, (0,))]
    assert run_schedule(units, Coordinator(), cooperative=False, timeout=0.5).kind == "completed"
    started = time.monotonic()
    units = [Unit("a", lambda: spin(30), 1), Unit("b", lambda: None, 2, (0,))]
    done = run_schedule(units, Coordinator(), cooperative=False, timeout=0.3)
    assert done.kind == "hang" and done.unit.label == 1
    assert time.monotonic() - started < 10  # the lane is abandoned, still spinning: found long before it ends
