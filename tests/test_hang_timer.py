"""The hang timer of non-cooperative runs counts the time the process could run (docs/replay.md)."""

import threading
import time

import pytest

from drvtape.runtime.coop import Coordinator
from drvtape.runtime.hang_timer import (COARSE_TICK, FINE_TICK, HAS_THREAD_CPU_CLOCK, HangTimer, cpu_seconds,
                                       own_cpu_clock)
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


def test_without_cpu_times_late_ticks_count_at_most_twice_the_shortest_tick():
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


needs_cpu_clock = pytest.mark.skipif(not HAS_THREAD_CPU_CLOCK, reason="no per-thread CPU clock on this platform")


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@needs_cpu_clock
def test_with_cpu_times_a_late_tick_counts_once_as_in_drvhost():
    def late_ticks_until_expired(timer: HangTimer) -> int:
        count(timer, {"a": 1}, COARSE_TICK)
        count(timer, {"a": 1}, COARSE_TICK)  # the shortest coarse tick: 10 ms
        ticks = 0
        while not count(timer, {"a": 1}, 0.2):  # each tick came back after 200 ms
            ticks += 1
        return ticks

    waiting = lambda thread: 1.5  # noqa: E731 - a thread that waits: its CPU time does not move
    assert late_ticks_until_expired(HangTimer(0.245, cpu_time=waiting)) == 23  # 10 ms each
    assert late_ticks_until_expired(HangTimer(0.245)) == 11  # 20 ms each


@needs_cpu_clock
def test_with_cpu_times_a_spinning_thread_is_counted_by_its_cpu_time():
    used = {"a": 0.0}

    def cpu_time(thread):
        used[thread] += 0.15  # it got 150 ms of CPU in each 200 ms tick
        return used[thread]

    timer = HangTimer(1.0, cpu_time=cpu_time)
    count(timer, {"a": 1}, COARSE_TICK)
    late_ticks = 0
    while not count(timer, {"a": 1}, 0.2):
        late_ticks += 1
    # the ticks count 10 ms each up to an eighth of the timeout (12 ticks), then its CPU time
    # decides: ~6 more ticks, where the ticks alone would have taken ~100
    assert 17 <= late_ticks <= 19
    assert not count(timer, {"a": 2}, 0.2)  # the lane's next call starts from zero


@needs_cpu_clock
def test_a_threads_cpu_clock_grows_when_it_spins_not_when_it_sleeps_and_reads_none_once_it_ended():
    clocks: dict[str, int] = {}
    go = threading.Event()

    def body(name: str, work) -> None:
        clocks[name] = own_cpu_clock()
        go.wait()
        work()

    threads = [threading.Thread(target=body, args=("spin", lambda: spin(0.3))),
               threading.Thread(target=body, args=("sleep", lambda: time.sleep(0.3)))]
    for thread in threads:
        thread.start()
    while len(clocks) < 2:
        time.sleep(0.001)
    before = {name: cpu_seconds(clock) for name, clock in clocks.items()}
    go.set()
    time.sleep(0.2)
    after = {name: cpu_seconds(clock) for name, clock in clocks.items()}
    for thread in threads:
        thread.join()
    assert after["spin"] - before["spin"] > 0.01
    assert after["sleep"] - before["sleep"] < 0.005
    assert cpu_seconds(clocks["spin"]) is None and cpu_seconds(None) is None
