"""The gate each replay lane waits at (runtime/schedule.py), and the hand-over through it.

A hand-over is a lane opening another's gate and then waiting at its own. Through two
threading.Locks that costs twice what it must: the woken thread wakes while the waker still
holds the GIL, sleeps again on the GIL, and wakes a second time once the waker blocks. The C
Gate (runtime/native/gate.c, built by setup.py) lets go of the GIL before it opens the other
gate, in `pass_to`. Without the C module, a Lock does the same steps with the GIL held.
"""

from __future__ import annotations

import threading

try:
    from drvtape.runtime.gate import Gate
except ImportError:  # not built (no C compiler or Python headers at install): threading.Lock
    Gate = None

NATIVE = Gate is not None


class LockGate:
    """A Gate made of a threading.Lock (the C module is missing): the same methods."""

    __slots__ = ("_lock", "acquire", "release")

    def __init__(self):
        self._lock = threading.Lock()
        self._lock.acquire()
        self.acquire, self.release = self._lock.acquire, self._lock.release

    def pass_to(self, other: LockGate) -> None:
        other.release()
        self.acquire()


def closed_gate() -> Gate | LockGate:
    """A closed gate: acquire() waits until another thread opens it with release() or pass_to."""
    return Gate() if NATIVE else LockGate()
