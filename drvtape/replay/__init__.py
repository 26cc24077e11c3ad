"""Replay: re-drive a recorded session against a target and say whether it reproduced."""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace

from drvtape.errors import DrvtapeError
from drvtape.replay.call_table import detailed, first, load_table
from drvtape.replay.dll import dll_runs, host_arch
from drvtape.replay.memcompare import Compared
from drvtape.replay.memory import MemoryPlan, Unfaithful, plan_memory
from drvtape.replay.memory_facts import Lookup, catalog_lookup
from drvtape.replay.inprocess import run_in_process
from drvtape.replay.streamed import StreamedCalls, replay_streamed, streamed_recording
from drvtape.runtime.pointers import check_replayable
from drvtape.runtime.schedule import Threads
from drvtape.runtime.targets import Target
from drvtape.schema.outcome import COMPLETED, Outcome, OutcomeKind
from drvtape.schema.recording import Recording
from drvtape.store import Store


@dataclass(frozen=True)
class ReplayReport:
    recording: Recording
    target: str
    threads: Threads
    runs: list[Outcome]
    memory: list[Compared]  # per run: the output blocks and bytes compared, the first difference
    unknown_calls: int = 0  # calls whose message the catalog does not know (sent with raw values)
    stopped: Unfaithful | None = None  # --until-missing-memory: the call the replay stopped before

    @property
    def reproduced_runs(self) -> int:
        return sum(1 for o in self.runs if o.same_place(self.recording.outcome))

    @property
    def reproduced(self) -> bool:
        """Every run ended as the recording did, at the same place, with every earlier return equal."""
        return self.reproduced_runs == len(self.runs)

    @property
    def first_divergence(self) -> Outcome | None:
        return next((o for o in self.runs if o.kind is OutcomeKind.DIVERGED), None)

    @property
    def distinct_outcomes(self) -> list[tuple[Outcome, int]]:
        """Each different way the runs ended, with how many runs ended so, in order of first seen:
        when runs disagree, the flakiness shows instead of being averaged away."""
        seen: list[list] = []
        for run in self.runs:
            entry = next((e for e in seen if e[0] == run), None)
            if entry is None:
                seen.append([run, 1])
            else:
                entry[1] += 1
        return [(outcome, count) for outcome, count in seen]

    def to_json(self) -> dict:
        first = self.runs[0]
        return {
            "session": str(self.recording.header.id),
            "target": self.target,
            "threads": self.threads.value,
            "recorded": self.recording.outcome.to_json(),
            "outcome": first.to_json(),
            "reproduced": self.reproduced,
            "first_divergence": self.first_divergence.to_json() if self.first_divergence else None,
            "location": {k: v for k, v in first.to_json().items() if k in ("seq", "msg", "msg_name", "code",
                                                                            "module", "offset")} or None,
            "runs": len(self.runs),
            "reproduced_runs": self.reproduced_runs,
            "outcomes": [o.to_json() for o in self.runs],
            "distinct_outcomes": [{"outcome": o.to_json(), "runs": n} for o, n in self.distinct_outcomes],
            "outputs_compared": self.memory[0].outputs,
            "bytes_compared": self.memory[0].bytes,
            "first_memory_difference": next((m.difference.text() for m in self.memory if m.difference), None),
            "unknown_meaning_calls": self.unknown_calls,
            "stopped_before": self.stopped.text if self.stopped else None,
        }


def load_recording(store: Store, ref: str) -> Recording:
    """The stored session `ref` names (a UUID, a unique prefix or 'last'), as replay reads it:
    its calls as columns (replay/call_table.py), read a chunk at a time; a big one's calls
    read a piece at a time as each run gets to them (replay/streamed.py)."""
    stored = store.resolve(ref)
    # a big session: read again for each run (or kept for --repeat: streamed.KEEP_FOR_REPEATS)
    streamed = streamed_recording(store, stored.pk, stored.header)
    return streamed or load_table(stored.header, store.stream_rows(stored.pk), store.blobs)


def replay_recording(recording: Recording, target: Target, *, threads: Threads = Threads.FAITHFUL, repeat: int = 1,
                     timeout: float = 5.0, on_run: Callable[[int, Outcome], None] | None = None,
                     until_missing_memory: bool = False, lookup: Lookup | None = None) -> ReplayReport:
    """Replay a recording `repeat` times, each against a fresh driver. DrvtapeError, before anything
    runs, when a call's memory cannot be rebuilt faithfully, unless until_missing_memory: then
    the calls before it are replayed and the report says where it stopped. lookup: what each
    message's memory is (the catalog at the recording's arch unless given)."""
    threads = Threads(threads)
    lookup = lookup or catalog_lookup(recording.arch)
    if isinstance(recording.calls, StreamedCalls):
        if target.in_process:
            with _cyclic_gc_paused():
                done = replay_streamed(recording, target, threads=threads, repeat=repeat, timeout=timeout,
                                       on_run=on_run, until_missing_memory=until_missing_memory, lookup=lookup,
                                       arch=recording.arch)
            return ReplayReport(done.recording, target.spec, threads, done.runs, done.memory, done.unknown,
                                done.stopped)
        recording = replace(recording, calls=recording.calls.whole())  # drvhost is sent the whole schedule
    with _cyclic_gc_paused():  # planning allocates per call too
        for _, call in detailed(recording.calls):
            if call.payload is not None:
                check_replayable(call.msg, call.payload, call.seq)
        plan = plan_memory(recording, lookup, host_arch(recording, target))
    if plan.unfaithful is not None:
        if not until_missing_memory:
            raise DrvtapeError(f"cannot replay faithfully: {plan.unfaithful.text}")
        recording = _before(recording, plan.unfaithful)
    runs, memory = [], []
    with _cyclic_gc_paused(), _runs(recording, target, plan, threads=threads) as run_once:
        for i in range(repeat):
            outcome, compared = run_once(timeout)
            runs.append(outcome)
            memory.append(compared)
            if on_run is not None:
                on_run(i, outcome)
    return ReplayReport(recording, target.spec, threads, runs, memory, plan.unknown, plan.unfaithful)


def _runs(recording: Recording, target: Target, plan: MemoryPlan, *,
          threads: Threads) -> AbstractContextManager[Callable[[float], tuple[Outcome, Compared]]]:
    """A function that runs the recording once against a fresh driver, given the per-call
    timeout; what a DLL's runs share (the encoded calls) is made once, for all of them."""
    if target.in_process:
        return nullcontext(lambda timeout: run_in_process(recording, target, threads=threads, timeout=timeout,
                                                          plan=plan))
    return dll_runs(recording, target, threads=threads, plan=plan)


def _before(recording: Recording, stop: Unfaithful) -> Recording:
    """The recording up to the call replay cannot rebuild; it ends as recorded only if it ended before it."""
    ended_before = recording.outcome.seq is not None and recording.outcome.seq < stop.seq
    return replace(recording, calls=first(recording.calls, stop.index),
                   outcome=recording.outcome if ended_before else COMPLETED)


@contextmanager
def _cyclic_gc_paused():
    """A replay allocates per call but makes no cycles; without this, collections walking the
    loaded recording took about 70% of a serial replay (bench/run.py measured it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["Outcome", "Recording", "ReplayReport", "load_recording", "replay_recording"]
