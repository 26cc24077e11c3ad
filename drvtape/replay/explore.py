"""Explore: the failures a recording did not hit.

(a) Shutdown at every point: each prefix of the calls, ended as Windows ends (what
runtime/system.py's DriverSystem.shutdown sends: DRV_EXITSESSION to each instance open at
that point, then DRV_DISABLE and DRV_FREE, on a thread of its own), and ended as a process
exit (nothing more is sent). (b) With several threads: seeded reorderings (replay/reorder.py),
each an order the recording allows or, for odd seeds, one that breaks one of its edges on
purpose; the edges an explored order breaks are reported with what it found. Failures (fault, hang) are told apart by a fingerprint; each distinct
one is stored as a session derived from the recording, which `replay` reproduces.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from drvtape.present.text import outcome_text
from drvtape.replay import replay_recording
from drvtape.replay.derive import loose, replays_as_stored, save_derived
from drvtape.replay.reorder import BrokenEdge, broken_edges, interleaving
from drvtape.runtime.schedule import Threads
from drvtape.runtime.system import DriverSystem, Instance, InstanceState
from drvtape.runtime.targets import Target
from drvtape.schema import messages as m
from drvtape.schema.outcome import COMPLETED, Outcome
from drvtape.schema.recording import RecordedCall, Recording
from drvtape.schema.values import as_unsigned64


def fingerprint(outcome: Outcome) -> tuple:
    return (outcome.kind, outcome.msg, outcome.code, outcome.module, outcome.offset)


class FoundBy(StrEnum):
    """The kind of candidate that ended in a failure."""

    SHUTDOWN = "shutdown"  # a prefix of the calls, then Windows ending
    PROCESS_EXIT = "process-exit"  # a prefix of the calls, then nothing (the process exited)
    REORDER = "reorder"  # the threads' calls interleaved another way


@dataclass
class FoundFailure:
    outcome: Outcome
    how: FoundBy
    prefix: int | None  # how many of the recording's calls ran before the ending
    seed: int | None
    calls: list[RecordedCall]
    perturbed: list[BrokenEdge] = field(default_factory=list)  # the recording's edges this order broke
    session_id: str | None = None
    verified: bool | None = None

    def describe(self) -> str:
        found = f"seed {self.seed}" if self.how is FoundBy.REORDER else f"{self.how} after {self.prefix} call(s)"
        if self.how is FoundBy.REORDER:
            found += "; " + (", ".join(f"perturbed: {e.describe()}" for e in self.perturbed) or "an order the "
                             "recording allows")
        return f"{outcome_text(self.outcome)}  [{found}]"

    def to_json(self) -> dict:
        return {"outcome": self.outcome.to_json(), "how": self.how.value, "prefix": self.prefix, "seed": self.seed,
                "perturbed": [e.describe() for e in self.perturbed], "calls": len(self.calls),
                "session": self.session_id, "verified": self.verified}


@dataclass
class ExploreResult:
    recording: Recording
    findings: list[FoundFailure]
    replays: int
    seconds: float
    recorded_hit: int  # runs that ended in the recording's own failure
    reorderings: dict[str, int] = field(default_factory=lambda: {"allowed": 0, "perturbed": 0})

    def to_json(self) -> dict:
        return {"session": str(self.recording.header.id), "recorded": self.recording.outcome.to_json(),
                "replays": self.replays, "seconds": round(self.seconds, 3), "recorded_failure_hits": self.recorded_hit,
                "reorderings": self.reorderings, "findings": [f.to_json() for f in self.findings]}


def windows_ending(prefix: list[RecordedCall], thread: int, first_seq: int) -> list[RecordedCall]:
    """What Windows sends when it ends after `prefix`: DriverSystem.shutdown, driven from the
    state the prefix leaves (the driver loaded or not, the instances open by handle)."""
    sent: list[tuple[int, int, int]] = []
    system = DriverSystem(lambda driver_id, hdrvr, msg, _l1, _l2: sent.append((driver_id, hdrvr, msg)) or 0)
    for c in prefix:
        if c.msg == m.DRV_LOAD:
            system.loaded = c.result != 0
            system.instances.setdefault(f"load@{c.seq}", Instance(c.hdrvr, c.driver_id, InstanceState.CLOSED))
        elif c.msg == m.DRV_FREE:
            system.loaded = False
        elif c.msg == m.DRV_OPEN and c.result:
            system.instances[str(c.hdrvr)] = Instance(c.hdrvr, as_unsigned64(c.result), InstanceState.OPEN)
        elif c.msg == m.DRV_CLOSE and str(c.hdrvr) in system.instances:
            system.instances[str(c.hdrvr)].state = InstanceState.CLOSED
    system.shutdown()
    return [RecordedCall(first_seq + i, thread, msg, driver_id, hdrvr, 0, 0, None, None)
            for i, (driver_id, hdrvr, msg) in enumerate(sent)]


def candidates(recording: Recording, seed: int) -> Iterator[tuple[FoundBy, int | None, int | None,
                                                              list[RecordedCall]]]:
    calls = recording.calls
    shutdown_thread = max((c.thread for c in calls), default=-1) + 1
    after = max((max(c.seq, c.returned_at or 0) for c in calls), default=0) + 1  # past every call and return
    for k in range(1, len(calls) + 1):
        prefix = calls[:k]
        ending = windows_ending(prefix, shutdown_thread, after)
        if ending:
            yield FoundBy.SHUTDOWN, k, None, prefix + ending
        yield FoundBy.PROCESS_EXIT, k, None, prefix
    if recording.threads > 1:
        s = seed
        while True:
            yield FoundBy.REORDER, None, s, interleaving(calls, s)
            s += 1


def explore(recording: Recording, target: Target, *, max_replays: int | None = 200, seconds: float | None = None,
            seed: int = 0, threads: Threads = Threads.FAITHFUL, timeout: float = 5.0,
            on_replay: Callable[[int, int], None] | None = None) -> ExploreResult:
    """Replay candidates until the budget (replays, or seconds) is spent or none are left."""
    # Candidates end however they end: no recorded failure to compare with, no returns to check.
    base = replace(recording, outcome=COMPLETED)
    started = time.monotonic()
    seen = {fingerprint(recording.outcome)} if recording.outcome.failed else set()
    findings, replays, recorded_hit = [], 0, 0
    reorderings = {"allowed": 0, "perturbed": 0}
    for how, prefix, s, calls in candidates(recording, seed):
        if max_replays is not None and replays >= max_replays:
            break
        if seconds is not None and time.monotonic() - started >= seconds:
            break
        perturbed = broken_edges(recording.calls, calls) if how is FoundBy.REORDER else []
        if how is FoundBy.REORDER:
            reorderings["perturbed" if perturbed else "allowed"] += 1
        outcome = replay_recording(loose(base, calls), target, threads=threads, timeout=timeout).runs[0]
        replays += 1
        if on_replay is not None:
            on_replay(replays, len(findings))
        if not outcome.failed:
            continue
        if fingerprint(outcome) == fingerprint(recording.outcome):
            recorded_hit += 1
        if fingerprint(outcome) not in seen:
            seen.add(fingerprint(outcome))
            findings.append(FoundFailure(outcome, how, prefix, s, calls, perturbed))
    return ExploreResult(recording, findings, replays, time.monotonic() - started, recorded_hit, reorderings)


def save_findings(result: ExploreResult, target: Target, db, *, threads: Threads = Threads.FAITHFUL,
                  timeout: float = 5.0) -> None:
    """Store each finding as a session derived from the recording, and check that it replays."""
    base = replace(result.recording, outcome=COMPLETED)
    for finding in result.findings:
        finding.session_id = save_derived(base, finding.calls, target, db, source="explore", threads=threads,
                                             timeout=timeout)
        finding.verified = replays_as_stored(db, finding.session_id, target, threads=threads, timeout=timeout)
