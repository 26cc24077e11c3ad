"""One table of schedule cases, run against both schedulers (issue 12): the Python lanes
(tests/test_schedule_cases.py) and drvhost (tests/native/test_schedule_cases_dll.py).

A case is a recording written as its events, in seq order: ("call", thread, name) and
("return", name). Every call is DRV_USER to a driver that returns the tickets it took on
entry and exit (tests/native/drivers/order_log.c, and `PyOrderDriver` below), and does
what `does` says: SLOW (so that a forbidden order would show), HANG, or waits until another
call has entered (so that an allowed overlap must happen, or the run shows it did not).
`before` pairs (a, b): in every run a returned before b entered (the forbidden order is b
first). `overlap` pairs (a, b): b entered while a was in flight. `hangs`: never return.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from drvtape.schema.recording import RecordedCall

DRV_USER = 0x4000
PLAIN, SLOW, HANG = 0, 1, 2


def waits_for(name: int) -> int:
    return 3 + name


@dataclass(frozen=True)
class Case:
    name: str
    events: list[tuple]
    does: dict[int, int] = field(default_factory=dict)
    before: list[tuple[int, int]] = field(default_factory=list)
    overlap: list[tuple[int, int]] = field(default_factory=list)
    hangs: list[int] = field(default_factory=list)

    def calls(self) -> list[RecordedCall]:
        """The recorded calls (name n is lparam1 n), with their RETURN seqs."""
        returned = {ev[1]: seq for seq, ev in enumerate(self.events, 1) if ev[0] == "return"}
        return [RecordedCall(seq, ev[1], DRV_USER, 0, 0x10, ev[2], self.does.get(ev[2], PLAIN), None,
                             None, returned.get(ev[2]))
                for seq, ev in enumerate(self.events, 1) if ev[0] == "call"]


CASES = [
    Case("a return recorded before a call on another thread comes first",
         [("call", 0, 0), ("return", 0), ("call", 1, 1), ("return", 1)],
         does={0: SLOW}, before=[(0, 1)]),
    Case("calls that overlapped may overlap again",
         [("call", 0, 0), ("call", 1, 1), ("return", 1), ("return", 0)],
         does={0: waits_for(1)}, overlap=[(0, 1)]),
    Case("a third thread waits for both returns recorded before it",
         [("call", 0, 0), ("call", 1, 1), ("return", 1), ("return", 0), ("call", 2, 2), ("return", 2)],
         does={0: SLOW, 1: SLOW}, before=[(0, 2), (1, 2)]),
    Case("only the returns recorded before a call hold it back",
         [("call", 0, 0), ("call", 1, 1), ("return", 0), ("call", 0, 2), ("return", 1), ("call", 1, 3),
          ("return", 3), ("return", 2)],
         does={0: SLOW, 1: SLOW, 2: waits_for(3)}, before=[(0, 2), (1, 3)], overlap=[(2, 3)]),
    Case("a recorded hang blocks only what it blocked",
         [("call", 0, 0), ("call", 1, 1), ("return", 1)],
         does={0: HANG}, overlap=[(0, 1)], hangs=[0]),
]


def tickets(result: int) -> tuple[int, int]:
    """(entry, exit) from a driver's result."""
    return result >> 32, result & 0xFFFFFFFF


def check_run(case: Case, results: dict[int, int]) -> None:
    """results: call name -> the driver's result, for the calls that returned."""
    entry = {n: tickets(r)[0] for n, r in results.items()}
    leave = {n: tickets(r)[1] for n, r in results.items()}
    for a, b in case.before:
        assert leave[a] < entry[b], f"{case.name}: {b} entered before {a} returned"
    for a, b in case.overlap:
        assert entry[b] < leave.get(a, 1 << 32), f"{case.name}: {b} did not overlap {a}"
    named = {ev[2] for ev in case.events if ev[0] == "call"}
    assert set(results) == named - set(case.hangs)


class PyOrderDriver:
    """order_log.c in Python, for the in-process lanes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ticket = 0
        self.entered = [threading.Event() for _ in range(64)]
        self.release = threading.Event()  # set at the end so that hung lanes can go

    def _take(self) -> int:
        with self.lock:
            self.ticket += 1
            return self.ticket

    def __call__(self, name: int, does: int) -> int:
        entry = self._take()
        self.entered[name].set()
        if does == SLOW:
            self.release.wait(0.05)
        elif does == HANG:
            self.release.wait()
        elif does >= 3:
            self.entered[does - 3].wait(2.0)
        return entry << 32 | self._take()
