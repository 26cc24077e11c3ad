"""The OS threads a thread-faithful run's lanes run on (runtime/schedule.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from queue import SimpleQueue


class LaneThreads:
    """The OS thread of each lane, by recorded thread, kept from one schedule to the next of a
    run fed in pieces (run_schedules): a recorded thread is one OS thread for the whole run,
    as a driver keeping thread-local state needs. A lane that never returns keeps its thread."""

    def __init__(self):
        self._work: dict[Hashable, SimpleQueue] = {}

    def start(self, key: Hashable, loop: Callable[[], None]) -> None:
        work = self._work.get(key)
        if work is None:
            work = self._work[key] = SimpleQueue()
            threading.Thread(target=self._serve, args=(work,), name=f"drvtape-lane-{key}", daemon=True).start()
        work.put(loop)

    @staticmethod
    def _serve(work: SimpleQueue) -> None:
        while (loop := work.get()) is not None:
            loop()

    def close(self) -> None:
        """Each thread ends once its lane's loop has (none is waited for)."""
        for work in self._work.values():
            work.put(None)
        self._work = {}
