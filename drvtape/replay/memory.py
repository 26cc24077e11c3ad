"""Rebuilding the memory behind recorded calls for drvhost (memory.md, "Rebuild").

Every recorded block is keyed by its recorded address: one address used by several calls is
one replay block, allocated (zeroed) at its first use and freed when runtime.memory_lifetime
says (after its last use, or a catalog hint's closing message to the same instance).
Before each call its call-phase bytes are written, except pointer fields (patched with the
replay address of the child block, NULL staying NULL) and driver-owned fields (they keep
what this run's driver wrote); output-only blocks are just allocated. After the call every
return-phase block is read back to be compared (memcompare.py).

A call whose memory cannot be rebuilt faithfully (a pointer the recording has no memory
for, an input block cut short or unreadable) is never sent: planning names the first one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drvtape.formats import host_memory as op
from drvtape.formats.host_memory import HostOp
from drvtape.replay.call_table import column, detailed, first, message_keys
from drvtape.replay.memory_facts import Lookup, MessageFacts, NodeFacts
from drvtape.runtime.memory_lifetime import release_points
from drvtape.schema.memory.captured import MemoryBlock, Phase, block
from drvtape.schema.memory.layout import Arch
from drvtape.schema.recording import RecordedCall, Recording

NULL = 0


@dataclass(frozen=True)
class OutputRead:
    """One return-phase block read back after its call, to compare with the recording."""
    block: int  # replay block id
    recorded: MemoryBlock
    node: NodeFacts | None


@dataclass(frozen=True)
class CallMemory:
    name: str  # the message's name for this instance's class
    ops: tuple[HostOp, ...] = ()
    block1: int | None = None  # lparam1 is this block's address
    block2: int | None = None
    reads: tuple[OutputRead, ...] = ()


@dataclass(frozen=True)
class Unfaithful:
    """The first call whose memory cannot be rebuilt: replay refuses, or stops before it."""
    index: int  # in recording.calls
    seq: int
    text: str  # "seq 9 ICM_GETINFO: lparam2 is a pointer and the recording has no memory for it"


@dataclass(frozen=True)
class MemoryPlan:
    calls: list[CallMemory | None]  # per call; None: the catalog does not know the message (raw values)
    unknown: int  # calls of unknown meaning
    unfaithful: Unfaithful | None


def plan_memory(recording: Recording, lookup: Lookup, host_arch: Arch = "x64") -> MemoryPlan:
    """The memory plan for a host built for host_arch (drvhost is built for the driver DLL's
    arch): a recording's memory has its own arch's layouts, so the two must agree. Calls with
    neither payload nor memory are looked at through columns (replay/call_table.py): only
    the others are read as RecordedCalls."""
    calls = recording.calls
    known = {key: lookup(*key) for key in set(message_keys(calls))}  # asked once per class and message
    facts = list(map(known.__getitem__, message_keys(calls)))
    unfaithful = _first_unfaithful(calls, facts, recording, host_arch)
    usable = first(calls, unfaithful.index) if unfaithful else calls
    blocks = _BlockMap(usable, facts)
    return MemoryPlan(blocks.plan(usable, facts, recording), facts[:len(usable)].count(None), unfaithful)


def _first_unfaithful(calls: Sequence[RecordedCall], facts: Sequence[MessageFacts | None], recording: Recording,
                      host_arch: Arch) -> Unfaithful | None:
    """The first call whose memory cannot be rebuilt, None when every call's can."""
    with_details = dict(detailed(calls))
    lparam1, lparam2 = column(calls, "lparam1"), column(calls, "lparam2")
    for i, f in enumerate(facts):
        if f is None:
            continue
        call = with_details.get(i)
        if call is not None:
            problem = _problem(call, f, recording, host_arch)
        else:  # no payload, no memory: only a pointer lParam can be a problem
            problem = _pointer_problem(lparam1[i], lparam2[i], f, (), None)
        if problem:
            seq = call.seq if call is not None else calls[i].seq
            return Unfaithful(i, seq, f"seq {seq} {f.name}: {problem}")
    return None


def _problem(call: RecordedCall, facts: MessageFacts, recording: Recording, host_arch: Arch) -> str | None:
    """Why the call's memory cannot be rebuilt, None when it can."""
    has_memory = call.memory_in or call.memory_out
    paths = {b.path for b in (*call.memory_in, *call.memory_out)} if has_memory else ()
    pointer = _pointer_problem(call.lparam1, call.lparam2, facts, paths, call.payload)
    if pointer:
        return pointer
    if has_memory and recording.arch != host_arch:  # an output's size is its arch's too
        return f"its memory has {recording.arch} layouts and drvhost is {host_arch}"
    for b in call.memory_in:
        if b.unreadable or b.truncated:
            state = "unreadable" if b.unreadable else f"truncated ({b.captured} of {b.size} bytes captured)"
            return f"input {b.path} was {state} when recorded"
        node = facts.nodes.get(b.path)
        for offset, width, child in node.pointers if node else ():
            if _pointer(recording.blob(b.sha256), offset, width) and child not in paths:
                return f"{child} is a pointer and the recording has no memory for it"
    return None


def _pointer_problem(lparam1: int, lparam2: int, facts: MessageFacts, paths, payload) -> str | None:
    """An lParam the catalog says is a pointer, with no memory recorded for it (nor a legacy payload)."""
    for param, lparam in ((1, lparam1), (2, lparam2)):
        if lparam and facts.top(param) is not None and f"lparam{param}" not in paths and \
                (payload is None or getattr(payload, f"lparam{param}") is None):
            return f"lparam{param} is a pointer and the recording has no memory for it"
    return None


def _pointer(data: bytes, offset: int, width: int) -> int:
    return int.from_bytes(data[offset:offset + width], "little")


class _BlockMap:
    """Recorded address -> replay block id, each block's size and the call after which it is
    freed (runtime.memory_lifetime decides)."""

    def __init__(self, calls: Sequence[RecordedCall], facts: Sequence[MessageFacts | None]):
        self.ids: dict[int, int] = {}
        self.size: dict[int, int] = {}
        self.first: dict[int, int] = {}  # id -> index of the call that allocates it
        self.users: set[int] = set()  # indices of the calls with memory
        for i, call in detailed(calls):
            if facts[i] is None or not (call.memory_in or call.memory_out):
                continue
            self.users.add(i)
            for b in (*call.memory_in, *call.memory_out):
                block = self.ids.setdefault(b.address, len(self.ids) + 1)
                self.size[block] = max(self.size.get(block, 0), b.size)
                self.first.setdefault(block, i)

        def until(i: int, path: str) -> frozenset[str] | None:
            node = facts[i].nodes.get(path)
            return node.until if node is not None else None

        # without memory, nothing is freed (and release_points would read every call)
        freed = release_points(calls, lambda i: facts[i].name if facts[i] is not None else None,
                               until) if self.users else {}
        self.freed_after = {i: [self.ids[a] for a in addresses] for i, addresses in freed.items()}
        self._empty: dict[str, CallMemory] = {}  # name -> the plan of its calls that have no memory (one shared)

    def plan(self, calls: Sequence[RecordedCall], facts: Sequence[MessageFacts | None],
             recording: Recording) -> list[CallMemory | None]:
        """Each call's CallMemory (None: its message is unknown); a call with no memory to
        handle shares its message's one, and is not read as a RecordedCall."""
        special = self.users | self.freed_after.keys()
        return [None if f is None else self.call_memory(i, calls[i], f, recording) if i in special
                else self._no_memory(f.name) for i, f in zip(range(len(calls)), facts)]

    def _no_memory(self, name: str) -> CallMemory:
        found = self._empty.get(name)
        if found is None:
            found = self._empty[name] = CallMemory(name)
        return found

    def call_memory(self, i: int, call: RecordedCall, facts: MessageFacts, recording: Recording) -> CallMemory:
        if not (call.memory_in or call.memory_out or i in self.freed_after):
            return self._no_memory(facts.name)
        ids = self.ids
        blocks = (*call.memory_in, *call.memory_out)
        by_path = {b.path: ids[b.address] for b in blocks}
        allocs = {ids[b.address] for b in blocks if self.first[ids[b.address]] == i}
        ops: list[HostOp] = [op.alloc(block, self.size[block]) for block in sorted(allocs)]
        for b in call.memory_in:
            ops.extend(_rebuild(ids[b.address], recording.blob(b.sha256), facts.nodes.get(b.path), by_path))
        reads = tuple(OutputRead(ids[b.address], b, facts.nodes.get(b.path)) for b in call.memory_out if b.captured)
        ops.extend(op.read(r.block, 0, r.recorded.captured) for r in reads)
        ops.extend(op.free(block) for block in self.freed_after.get(i, ()))
        return CallMemory(facts.name, tuple(ops), by_path.get("lparam1"), by_path.get("lparam2"), reads)


def _rebuild(block: int, data: bytes, node: NodeFacts | None, by_path: dict[str, int]) -> list[HostOp]:
    """WRITE the recorded bytes around pointer and driver-owned fields, PATCH each pointer."""
    skipped = node.skipped() if node else []
    ops = [op.write(block, start, data[start:end]) for start, end in segments(len(data), skipped)]
    for offset, width, child in node.pointers if node else ():
        if offset + width <= len(data):
            target = by_path[child] if _pointer(data, offset, width) else NULL
            ops.append(op.patch(block, offset, width, target))
    return ops


def segments(length: int, skipped: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """[start, end) ranges of 0..length outside the skipped (offset, width) ranges (sorted)."""
    out, pos = [], 0
    for offset, width in skipped:
        if offset > pos:
            out.append((pos, min(offset, length)))
        pos = max(pos, offset + width)
    if pos < length:
        out.append((pos, length))
    return [(s, e) for s, e in out if s < e]


def written_blocks(memory: CallMemory | None, replayed: Sequence[tuple[int, int, bytes]]) -> list[tuple[MemoryBlock, bytes]]:
    """What this run's driver wrote (the host's READ results), as return-phase blocks at the
    recording's places, with their bytes."""
    if memory is None:
        return []
    return [(block(r.recorded.path, Phase.RETURN, r.recorded.address, r.recorded.size, data,
                   truncated=len(data) < r.recorded.size), data)
            for r, (_block, _offset, data) in zip(memory.reads, replayed)]
