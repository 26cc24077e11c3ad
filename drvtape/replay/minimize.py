"""Minimize: delta debugging (ddmin) over a session's calls, keeping the session well-formed.

What may go: a message or DRV_CLOSE on its own; a DRV_OPEN together with everything later
sent to that instance (keyed by its hdrvr); an unload-and-reload in the middle (DRV_DISABLE,
DRV_FREE, DRV_LOAD, DRV_ENABLE) as one piece. What stays: the first DRV_LOAD/DRV_ENABLE, the
last DRV_DISABLE/DRV_FREE, the failing call and the DRV_OPEN of its instance. A call keeps
its recorded thread and seq, so "the same call" is the same seq in every candidate.

A candidate is accepted when every run ends with the recording's outcome kind at the same
call (for a fault, the same code and place); the returns of earlier calls are not compared,
because the point of removing calls is that the driver's answers may change. The result is
stored as a derived session (drvtape.replay.derive).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drvtape.errors import DrvtapeError
from drvtape.present.text import outcome_text
from drvtape.replay import replay_recording
from drvtape.replay.derive import loose
from drvtape.runtime.schedule import Threads
from drvtape.runtime.targets import Target, TargetKind
from drvtape.schema import messages as m
from drvtape.schema.outcome import Outcome
from drvtape.schema.recording import RecordedCall, Recording

DRIVER_WIDE = (m.DRV_LOAD, m.DRV_ENABLE, m.DRV_DISABLE, m.DRV_FREE)


# ---- candidates ---------------------------------------------------------------------------

def ends_as(recording: Recording, calls: Sequence[RecordedCall], target: Target, *, repeat: int,
            threads: Threads = Threads.FAITHFUL, timeout: float = 5.0, on_run: Callable[[Outcome], None] | None = None) -> bool:
    """Every one of `repeat` runs of the calls ends as the recording did, at the same call."""
    candidate = loose(recording, calls)
    for _ in range(repeat):
        outcome = replay_recording(candidate, target, threads=threads, timeout=timeout).runs[0]
        if on_run is not None:
            on_run(outcome)
        if not outcome.same_place(recording.outcome):
            return False
    return True


@dataclass(frozen=True)
class Structure:
    fixed: frozenset[int]  # seqs that every candidate keeps
    atoms: list[tuple[int, ...]]  # what ddmin removes: the seqs that go together
    owner: dict[int, int]  # seq -> the seq of the DRV_OPEN of the instance it was sent to

    def closure(self, atoms: Sequence[tuple[int, ...]]) -> frozenset[int]:
        """The seqs a set of kept atoms stands for: without the calls whose DRV_OPEN is gone."""
        kept = set(self.fixed).union(*atoms)
        return frozenset(s for s in kept if self.owner.get(s, s) in kept)


def structure(recording: Recording) -> Structure:
    calls = sorted(recording.calls, key=lambda c: c.seq)
    owner: dict[int, int] = {}
    open_at: dict[int, int] = {}  # hdrvr -> seq of the DRV_OPEN of the instance open on it
    for c in calls:
        if c.msg in DRIVER_WIDE:
            continue
        if c.msg == m.DRV_OPEN:
            open_at[c.hdrvr] = c.seq
            continue
        opened = open_at.get(c.hdrvr)
        if opened is not None:
            owner[c.seq] = opened
        if c.msg == m.DRV_CLOSE:
            open_at.pop(c.hdrvr, None)

    fixed: set[int] = set()
    grouped: dict[int, list[int]] = {}  # seq of a reload's first call -> the reload's seqs
    wide = [c for c in calls if c.msg in DRIVER_WIDE]
    loads = [i for i, c in enumerate(wide) if c.msg == m.DRV_LOAD]
    if loads:
        head = wide[:loads[1]] if len(loads) > 1 else wide
        fixed.update(c.seq for c in head if c.msg in (m.DRV_LOAD, m.DRV_ENABLE))
        tail = wide[loads[-1]:]
        fixed.update(c.seq for c in tail if c.msg in (m.DRV_DISABLE, m.DRV_FREE))
        for before, after in zip(loads, loads[1:]):
            # the unload that ends one bracket and the load that starts the next go together
            unload = [c.seq for c in wide[before:after] if c.msg in (m.DRV_DISABLE, m.DRV_FREE)]
            load = [c.seq for c in wide[after:] if c.msg in (m.DRV_LOAD, m.DRV_ENABLE)][:2]
            piece = unload + load
            grouped[piece[0]] = piece
    failing = recording.outcome.seq
    if failing is not None:
        fixed.add(failing)
        if failing in owner:
            fixed.add(owner[failing])
    in_groups = {s for piece in grouped.values() for s in piece}
    atoms = [tuple(grouped[c.seq]) if c.seq in grouped else (c.seq,)
             for c in calls if c.seq not in fixed and (c.seq in grouped or c.seq not in in_groups)]
    return Structure(frozenset(fixed), atoms, owner)


def ddmin(atoms: list, test: Callable[[list], bool]) -> list:
    """Zeller's ddmin: a 1-minimal sublist of atoms for which test holds (test(atoms) must)."""
    if test([]):
        return []
    n = 2
    while len(atoms) >= 2:
        size = len(atoms) / n
        chunks = [atoms[round(i * size):round((i + 1) * size)] for i in range(n)]
        for chunk in chunks:
            if test(chunk):
                atoms, n = chunk, 2
                break
        else:
            for i in range(n):
                rest = [a for j, c in enumerate(chunks) if j != i for a in c]
                if test(rest):
                    atoms, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(atoms):
                    break
                n = min(len(atoms), 2 * n)
    return atoms


# ---- minimize -----------------------------------------------------------------------------

class Budget(Exception):
    """The replay budget is spent: minimizing stops with the smallest session found so far."""


@dataclass
class MinimizeResult:
    original: Recording
    calls: list[RecordedCall]  # the minimized calls, with their original seqs
    replays: int  # driver runs used, the saving run and its check excluded
    candidates: int  # distinct candidates tried
    seconds: float
    exhausted: bool  # the budget ran out before ddmin finished
    session_id: str | None = None  # the stored minimized session
    verified: bool | None = None  # a replay of the stored session reproduced it

    def to_json(self) -> dict:
        return {
            "session": str(self.original.header.id), "minimized": self.session_id,
            "outcome": self.original.outcome.to_json(),
            "before": {"calls": len(self.original.calls), "threads": self.original.threads},
            "after": {"calls": len(self.calls), "threads": len({c.thread for c in self.calls})},
            "messages": [{"seq": c.seq, "thread": c.thread, "msg": c.msg, "msg_name": m.message_name(c.msg)}
                         for c in self.calls],
            "replays": self.replays, "candidates": self.candidates, "seconds": round(self.seconds, 3),
            "budget_exhausted": self.exhausted, "verified": self.verified,
        }


def minimize(recording: Recording, target: Target, *, repeat: int | None = None, max_replays: int = 1000,
             threads: Threads = Threads.FAITHFUL, timeout: float = 5.0,
             on_replay: Callable[[int], None] | None = None) -> MinimizeResult:
    """The smallest well-formed subset of the calls that still ends as the recording did."""
    if not recording.outcome.failed:
        raise DrvtapeError(f"session {recording.header.id} ended {recording.outcome.kind}: "
                           "minimize needs a session that ends in a fault or a hang")
    repeat = repeat or (1 if target.kind is TargetKind.SIM else 3)  # simulated drivers are deterministic
    shape = structure(recording)
    by_seq = {c.seq: c for c in recording.calls}
    started = time.monotonic()
    tried: dict[frozenset[int], bool] = {}
    replays = 0

    def counted(_outcome: Outcome) -> None:
        nonlocal replays
        replays += 1
        if on_replay is not None:
            on_replay(replays)

    def test(atoms: list) -> bool:
        seqs = shape.closure(atoms)
        if seqs not in tried:
            if replays + repeat > max_replays:
                raise Budget()
            tried[seqs] = ends_as(recording, [by_seq[s] for s in sorted(seqs)], target, repeat=repeat,
                                  threads=threads, timeout=timeout, on_run=counted)
            if tried[seqs]:
                best[:] = atoms
        return tried[seqs]

    best: list = list(shape.atoms)
    if not test(best):
        raise DrvtapeError(f"the session does not end as recorded ({outcome_text(recording.outcome)}) when "
                           f"replayed against {target.spec}: nothing to minimize")
    exhausted = False
    try:
        ddmin(list(shape.atoms), test)
    except Budget:
        exhausted = True
    calls = [by_seq[s] for s in sorted(shape.closure(best))]
    return MinimizeResult(recording, calls, replays, len(tried), time.monotonic() - started, exhausted)
