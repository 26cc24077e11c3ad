"""Cooperative waits for simulated drivers, so a hang is detected, not timed out.

Simulated driver code runs while holding the coordinator's lock, one thread at a time, the
way 16-bit Windows ran tasks: a driver that waits (Yield in a loop, a pending completion)
calls wait_until, which lets other threads run. When no thread can run and the schedule
cannot release another call, the system is quiescent: idle hooks run (a simulated device
completes its work); if that wakes nobody, every waiting call can never return. That is a
hang, found the same way on every run and without a clock.
"""

import threading
from collections.abc import Callable

from drvtape.runtime.faults import Abandoned


class _Waiter:
    __slots__ = ("pred", "ready")

    def __init__(self, pred: Callable[[], bool]):
        self.pred = pred
        self.ready = False


class Coordinator:
    def __init__(self, *, serial: bool = True):
        # A plain Lock, not the default RLock: a replay lane that lets another go and then waits
        # hands this lock on to it (runtime/schedule.py), and only a Lock may be released by a
        # thread other than the one that took it. Nothing takes it twice on one thread.
        self.cond = threading.Condition(threading.Lock())
        self.serial = serial  # one thread: a wait that cannot be satisfied is a hang at once
        self.running = 0  # threads inside driver code and not waiting (a replay counts its lanes that can go on)
        self.abandoned = False
        self._waiters: list[_Waiter] = []
        self._idle_hooks: list[Callable[[], bool]] = []

    def on_idle(self, hook: Callable[[], bool]) -> None:
        """Run hook when nothing else can run; it returns True when it changed something."""
        self._idle_hooks.append(hook)

    def wait_until(self, pred: Callable[[], bool]) -> None:
        """Block the calling driver code until pred() holds; raises Abandoned if it never will."""
        if pred():
            return
        if self.serial:
            while self._run_idle_hooks():
                if pred():
                    return
            raise Abandoned()
        waiter = _Waiter(pred)
        self._waiters.append(waiter)
        self.running -= 1
        self.wake_ready()
        self.cond.notify_all()
        while not waiter.ready:
            if self.abandoned:
                raise Abandoned()
            self.cond.wait()

    def wake_ready(self) -> bool:
        """Mark the waiters whose condition now holds as running again (lock held)."""
        if not self._waiters:
            return False
        ready = [w for w in self._waiters if w.pred()]
        for w in ready:
            w.ready = True
            self._waiters.remove(w)
            self.running += 1
        if ready:
            self.cond.notify_all()
        return bool(ready)

    def settle(self) -> bool:
        """At quiescence: let idle work happen; True when some waiter can run again."""
        if self.wake_ready():
            return True
        while self._run_idle_hooks():
            if self.wake_ready():
                return True
        return False

    def abandon(self) -> None:
        """Every waiting call unwinds with Abandoned (lock held)."""
        self.abandoned = True
        self.cond.notify_all()

    def _run_idle_hooks(self) -> bool:
        changed = False
        for hook in self._idle_hooks:
            changed = hook() or changed
        return changed
