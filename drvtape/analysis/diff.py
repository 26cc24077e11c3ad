"""Two sessions aligned call by call, with instance ids remapped: the first divergence and counts.

Calls are compared per thread lane (T0 with T0, T1 with T1: threads in order of first
appearance), since OS thread ids and the interleaving of threads differ from run to run while
each thread's own order does not. Within a lane the messages are aligned as sequences (so one
extra call shows as only-in-A or only-in-B, not as everything after it differing), then each
matched pair is compared: ids, parameters, result.

Ids differ from run to run too: the k-th DRV_OPEN of a lane in A and the k-th in B open "the
same" instance, so A's hdrvr and dwDriverId map to B's. Pointer parameters are compared by the
data the recorder copied, never by address. Only the calls the system made are compared (depth
0, as replay sends them): re-entrant calls come from the driver itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from drvtape.present.text import outcome_text
from drvtape.schema.outcome import Outcome
from drvtape.schema.recording import RecordedCall, Recording
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.values import as_unsigned64, lresult


class What(StrEnum):
    """How a pair of aligned calls differs."""

    MESSAGE = "message"  # different messages at the same place
    PARAMS = "params"  # the same message, other ids or parameters
    RESULT = "result"  # the same call, another result
    ONLY_IN_A = "only-in-a"
    ONLY_IN_B = "only-in-b"


DIFFERING = (What.MESSAGE, What.PARAMS, What.RESULT)


@dataclass(frozen=True)
class Divergence:
    what: What
    lane: int
    seq_a: int | None
    seq_b: int | None
    a: str | None  # the call (or the differing part) as A has it
    b: str | None


@dataclass(frozen=True)
class Diff:
    divergences: list[Divergence]  # the first one first
    matching: int
    outcome_a: Outcome
    outcome_b: Outcome

    @property
    def equal(self) -> bool:
        return not self.divergences

    @property
    def first(self) -> Divergence | None:
        return self.divergences[0] if self.divergences else None

    def count(self, what: What) -> int:
        return sum(d.what == what for d in self.divergences)

    @property
    def differing(self) -> int:
        return sum(d.what in DIFFERING for d in self.divergences)


@dataclass
class _IdMap:
    hdrvr: dict[int, int]
    driver_id: dict[int, int]

    def same(self, a: RecordedCall, b: RecordedCall) -> bool:
        return (self.hdrvr.get(a.hdrvr, a.hdrvr) == b.hdrvr
                and self.driver_id.get(a.driver_id, a.driver_id) == b.driver_id)


def _lanes(rec: Recording) -> dict[int, list[RecordedCall]]:
    lanes: dict[int, list[RecordedCall]] = {}
    for call in rec.calls:
        lanes.setdefault(call.thread, []).append(call)
    return lanes


def _id_map(lanes_a: dict, lanes_b: dict) -> _IdMap:
    ids = _IdMap({}, {})
    for lane, calls_a in lanes_a.items():
        opens_b = [c for c in lanes_b.get(lane, ()) if c.msg == DRV_OPEN]
        for a, b in zip((c for c in calls_a if c.msg == DRV_OPEN), opens_b):
            ids.hdrvr.setdefault(a.hdrvr, b.hdrvr)
            if a.result and b.result:
                ids.driver_id.setdefault(as_unsigned64(a.result), as_unsigned64(b.result))
    return ids


def _param(call: RecordedCall, n: int):
    copied = getattr(call.payload, f"lparam{n}", None) if call.payload else None
    return call.lparam1 if n == 1 and copied is None else call.lparam2 if copied is None else copied


def _result(call: RecordedCall, outcome: Outcome, ids: _IdMap | None = None) -> str:
    if call.result is None:
        return outcome_text(outcome) if outcome.seq == call.seq else "no return"
    if call.msg == DRV_OPEN and call.result:  # an instance id: a DWORD_PTR, in B's terms
        value = as_unsigned64(call.result)
        return lresult(ids.driver_id.get(value, value) if ids is not None else value)
    return lresult(call.result)


def _text(call: RecordedCall) -> str:
    return (f"{message_name(call.msg, call.cls)} id=0x{call.driver_id:X} hdrvr=0x{call.hdrvr:X} "
            f"lparam1={_param(call, 1)} lparam2={_param(call, 2)}")


def _compare(a: RecordedCall, b: RecordedCall, ids: _IdMap, ra: Recording, rb: Recording, lane: int):
    """A Divergence for a pair of calls with the same message, or None when they match."""
    if not ids.same(a, b) or _param(a, 1) != _param(b, 1) or _param(a, 2) != _param(b, 2):
        return Divergence(What.PARAMS, lane, a.seq, b.seq, _text(a), _text(b))
    result_a, result_b = _result(a, ra.outcome, ids), _result(b, rb.outcome)
    if result_a != result_b:
        return Divergence(What.RESULT, lane, a.seq, b.seq, result_a, result_b)
    return None


def _align_lane(lane: int, calls_a: list, calls_b: list, ids: _IdMap, ra: Recording, rb: Recording):
    """(divergence or None, A seq it sorts at) per aligned position of one lane."""
    matcher = SequenceMatcher(None, [c.msg for c in calls_a], [c.msg for c in calls_b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for a, b in zip(calls_a[i1:i2], calls_b[j1:j2]):
                yield _compare(a, b, ids, ra, rb, lane), a.seq
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for a, b in zip(calls_a[i1:i1 + paired], calls_b[j1:j1 + paired]):
            yield Divergence(What.MESSAGE, lane, a.seq, b.seq, _text(a), _text(b)), a.seq
        for a in calls_a[i1 + paired:i2]:
            yield Divergence(What.ONLY_IN_A, lane, a.seq, None, _text(a), None), a.seq
        # a call only B has sorts just before the A call that follows it in the lane
        after = calls_a[i2].seq - 0.5 if i2 < len(calls_a) else float("inf")
        for b in calls_b[j1 + paired:j2]:
            yield Divergence(What.ONLY_IN_B, lane, None, b.seq, None, _text(b)), after


def diff_recordings(ra: Recording, rb: Recording) -> Diff:
    lanes_a, lanes_b = _lanes(ra), _lanes(rb)
    ids = _id_map(lanes_a, lanes_b)
    found, matching = [], 0
    for lane in sorted(lanes_a.keys() | lanes_b.keys()):
        for divergence, order in _align_lane(lane, lanes_a.get(lane, []), lanes_b.get(lane, []), ids, ra, rb):
            if divergence is None:
                matching += 1
            else:
                found.append((order, divergence.seq_b or 0, divergence))
    found.sort(key=lambda f: (f[0], f[1]))
    return Diff([d for *_, d in found], matching, ra.outcome, rb.outcome)
