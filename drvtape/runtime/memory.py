"""The memory behind pointer parameters for in-process drivers (sim:, py:).

Where a C driver gets an address, an in-process driver gets a MemoryRef: the bytes of one
block (a bytearray), the catalog node it is (path, direction, layout), a stable identity
address, and the refs its pointer fields point to. Fields are read and written by name
through the node's layout; a pointer field's bytes hold the child ref's address, as real
memory would, so what the hook captures is what a tap would capture.

An application (a test, a workload) builds a call's refs with build_call_memory; replay
rebuilds them from a recording with CallMemoryRebuilder (one recorded address = one ref,
alive as runtime.memory_lifetime decides, then freed); the hook captures them with
capture_blocks. A freed ref faults like
freed memory (an access violation), so a driver that keeps a buffer past its lifetime
shows the bug in a recording and in its replay.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from drvtape.errors import DrvtapeError
from drvtape.runtime.faults import EXCEPTION_ACCESS_VIOLATION, DriverFault
from drvtape.runtime.memory_lifetime import release_points
from drvtape.schema.memory.captured import MemoryBlock, Phase, block
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.layout import Arch, PlacedField, StructLayout
from drvtape.schema.memory.sizes import BytesReader, evaluate_size
from drvtape.schema.memory.spec import CALL, Direction, MessageMemory, Node
from drvtape.schema.recording import RecordedCall, Recording

DEFAULT_CAP = 1_000_000  # bytes captured of one block at most (as the tap's DRVTAP_MEMORY_CAP)
_BASE, _STRIDE = 0x0000_7E00_0000_0000, 0x1_0000
_identities = itertools.count()  # next() is atomic under the GIL: refs made on any thread differ
_PHASE_DIRECTION = {Phase.CALL: Direction.IN, Phase.RETURN: Direction.OUT}


@functools.cache
def placed_fields(layout: StructLayout, arch: Arch) -> dict[str, PlacedField]:
    """A layout's fields by name (StructLayout.placed computes them anew at every call)."""
    return {p.name: p for p in layout.placed(arch)}


def _new_address() -> int:
    return _BASE + next(_identities) * _STRIDE


class MemoryRef:
    """One block of memory a pointer parameter (or a pointer field) points to."""

    __slots__ = ("node", "arch", "address", "children", "_data")

    def __init__(self, node: Node, arch: Arch, data: bytes | bytearray, address: int | None = None):
        self.node = node
        self.arch = arch
        self.address = _new_address() if address is None else address
        self.children: dict[str, MemoryRef | None] = {}
        self._data: bytearray | None = bytearray(data)

    @property
    def path(self) -> str:
        return self.node.path

    @property
    def freed(self) -> bool:
        return self._data is None

    @property
    def data(self) -> bytearray:
        """The block's bytes; an access violation once the application freed it."""
        if self._data is None:
            raise DriverFault(EXCEPTION_ACCESS_VIOLATION,
                              description=f"{self.path} used after the application freed it")
        return self._data

    def free(self) -> None:
        self._data = None

    def __getitem__(self, name: str) -> int:
        placed = placed_fields(self.node.layout, self.arch)[name]
        raw = self.data[placed.offset:placed.offset + placed.size]
        return int.from_bytes(raw, "little", signed=placed.ctype.signed)

    def __setitem__(self, name: str, value: int) -> None:
        placed = placed_fields(self.node.layout, self.arch)[name]
        self.data[placed.offset:placed.offset + placed.size] = value.to_bytes(
            placed.size, "little", signed=placed.ctype.signed)

    def child(self, name: str) -> MemoryRef | None:
        """The ref the pointer field `name` points to (None: NULL)."""
        return self.children.get(name)

    def set_child(self, name: str, ref: MemoryRef | None) -> None:
        """Point the field `name` at ref (None: NULL): its bytes get ref's address."""
        self.children[name] = ref
        placed = placed_fields(self.node.layout, self.arch)[name]
        self.data[placed.offset:placed.offset + placed.size] = (0 if ref is None else ref.address).to_bytes(
            placed.size, "little")

    def refs(self, path: str) -> Iterator[tuple[str, MemoryRef]]:
        """(catalog path, ref) of this ref, at path, and of every ref below it, parents first:
        a path is where a ref is passed in this call, whatever call it was made for."""
        yield path, self
        for name, ref in self.children.items():
            if ref is not None:
                yield from ref.refs(f"{path}.{name}")


# path -> the bytes, field values on a zeroed struct, or a ref made for an earlier call
Contents = Mapping[str, "bytes | bytearray | Mapping[str, int] | MemoryRef"]


def build_call_memory(entry: MessageMemory, arch: Arch, contents: Contents,
                      lparams: tuple[int, int] = (0, 0)) -> tuple[object, object]:
    """(lParam1, lParam2) for one call as an application would pass them: a MemoryRef for each
    catalog node contents names (an earlier call's ref is passed again: the same memory), an
    OUT node's buffer zeroed at the size the catalog computes; a pointer node not named is
    NULL; a parameter that is a value keeps its lparams value."""
    made: dict[str, MemoryRef] = {}
    for node in entry.nodes:
        parent = made.get(node.parent) if node.parent is not None else None
        if node.parent is not None and parent is None:
            continue  # under a NULL pointer
        ref = _made(node, arch, contents.get(node.path), made, lparams)
        if ref is not None:
            made[node.path] = ref
        if parent is not None:
            parent.set_child(node.parent_field, ref)
    return tuple(made.get(f"lparam{p}", lparams[p - 1] if _is_value(entry, p) else 0) for p in (1, 2))


def _is_value(entry: MessageMemory, param: int) -> bool:
    return all(n.path != f"lparam{param}" for n in entry.nodes)


def _made(node: Node, arch: Arch, given, made: dict[str, MemoryRef], lparams: tuple[int, int]) -> MemoryRef | None:
    if isinstance(given, MemoryRef):
        given.node = node  # the same memory, now behind this message's node
        return given
    if isinstance(given, (bytes, bytearray)):
        return MemoryRef(node, arch, given)
    if given is None:
        return MemoryRef(node, arch, bytes(_size_of(node, arch, made, lparams))) if node.direction is Direction.OUT else None
    ref = MemoryRef(node, arch, bytes(node.layout.size(arch)))
    for name, value in given.items():
        ref[name] = value
    size = _size_of(node, arch, {**made, node.path: ref}, lparams)  # a self-sized struct reads itself
    ref.data.extend(bytes(max(size - len(ref.data), 0)))
    return ref


def _size_of(node: Node, arch: Arch, made: dict[str, MemoryRef], lparams: tuple[int, int]) -> int:
    if node.layout is not None and node.size.of_layout:
        return node.layout.size(arch)
    size = evaluate_size(node, arch, BytesReader({p: r.data for p, r in made.items()}, lparams))
    if size > node.size.cap:
        raise DrvtapeError(f"{node.path}: {size} bytes is more than the catalog's cap of {node.size.cap}")
    return size


def capture_blocks(lparams: Iterable, phase: Phase, cap: int = DEFAULT_CAP) -> tuple[list[MemoryBlock], dict[str, bytes]]:
    """The blocks of a call's MemoryRefs the driver reads (phase CALL: IN and INOUT nodes) or
    wrote (RETURN: OUT and INOUT), at most cap bytes of each, and their bytes by sha256. A
    freed ref, or one larger than the catalog's cap for its size, is an unreadable block:
    its memory is not read."""
    wanted = _PHASE_DIRECTION[phase]
    blocks, blobs = [], {}
    for param, top in enumerate(lparams, 1):
        if not isinstance(top, MemoryRef):
            continue
        for path, ref in top.refs(f"lparam{param}"):
            if not ref.node.direction & wanted:
                continue
            if ref.freed or len(ref.data) > ref.node.size.cap:
                size = 0 if ref.freed else len(ref.data)
                blocks.append(block(path, phase, ref.address, size, b"", unreadable=True))
                continue
            data = bytes(memoryview(ref.data)[:cap])
            blocks.append(block(path, phase, ref.address, len(ref.data), data, truncated=len(ref.data) > cap))
            blobs[blocks[-1].sha256] = data
    return blocks, blobs


@dataclass(frozen=True)
class RebuiltCall:
    lparam1: object  # a MemoryRef, or the recorded value
    lparam2: object
    outputs: dict[str, MemoryRef]  # path -> the ref of each block the recording captured at return


class CallMemoryRebuilder:
    """A replay run's MemoryRefs, rebuilt call by call from a recording's blocks."""

    def __init__(self, recording: Recording):
        self._recording = recording
        self._live: dict[int, MemoryRef] = {}  # recorded address -> its ref in this run
        calls = recording.calls
        known = {key: message_memory(*key) for key in {(c.cls, c.msg) for c in calls}}  # asked once per message
        entries = [known[c.cls, c.msg] for c in calls]

        def until(i: int, path: str) -> tuple[str, ...] | None:
            node = entries[i].find(path)
            return node.lifetime[1] if node is not None and node.lifetime != CALL else None

        freed = release_points(calls, lambda i: entries[i].name if entries[i] is not None else None, until)
        self._freed_after = {calls[i].seq: addresses for i, addresses in freed.items()}  # seq -> addresses

    def call_memory(self, call: RecordedCall) -> RebuiltCall | None:
        """The call's lParams and output refs; None when the catalog knows no memory for it."""
        entry = message_memory(call.cls, call.msg)
        if entry is None or not entry.nodes:
            return None
        recorded = {b.path: b for b in call.memory_out}  # an output-only block: zeroed, its recorded size
        recorded.update((b.path, b) for b in call.memory_in)
        refs: dict[str, MemoryRef] = {}
        for node in entry.nodes:
            found = recorded.get(node.path)
            parent = refs.get(node.parent) if node.parent is not None else None
            ref = self._ref(node, found, call) if found is not None else None
            if ref is not None:
                refs[node.path] = ref
            if parent is not None:
                parent.set_child(node.parent_field, ref)
        outputs = {b.path: refs[b.path] for b in call.memory_out if b.path in refs}
        lparams = [refs.get(f"lparam{p}", getattr(call, f"lparam{p}") if _is_value(entry, p) else 0) for p in (1, 2)]
        return RebuiltCall(lparams[0], lparams[1], outputs)

    def _ref(self, node: Node, found: MemoryBlock, call: RecordedCall) -> MemoryRef:
        if found.phase is Phase.RETURN:
            live = self._live.get(found.address)
            if live is None or live.freed:
                live = self._live[found.address] = MemoryRef(node, self._recording.arch, bytes(found.size))
            return live
        if found.truncated or found.unreadable:
            state = "truncated" if found.truncated else "unreadable"
            raise DrvtapeError(f"seq {call.seq} {message_name(call.msg, call.cls)}: {node.path} was recorded "
                               f"{state}: its memory cannot be rebuilt")
        data = self._recording.blob(found.sha256)
        live = self._live.get(found.address)
        if live is None or live.freed or len(live.data) != len(data):
            live = self._live[found.address] = MemoryRef(node, self._recording.arch, data)
            return live
        kept = [(o, bytes(live.data[o:o + w])) for o, w in node.driver_owned(live.arch)] if node.layout else []
        live.node = node
        live.data[:] = data
        for offset, value in kept:  # the driver's own words keep what this run's driver wrote
            live.data[offset:offset + len(value)] = value
        for offset, width in node.zeroed(live.arch) if node.layout else ():
            live.data[offset:offset + width] = bytes(width)
        return live

    def release_after(self, call: RecordedCall) -> None:
        """Free the refs whose last use in the recording was this call."""
        for address in self._freed_after.get(call.seq, ()):
            ref = self._live.pop(address, None)
            if ref is not None:
                ref.free()


def rebuild_call_memory(call: RecordedCall, recording: Recording) -> tuple[object, object, dict[str, MemoryRef]]:
    """One call's (lParam1, lParam2, outputs) rebuilt from its recorded blocks on their own (a
    run keeps blocks shared by several calls alive: CallMemoryRebuilder)."""
    rebuilt = CallMemoryRebuilder(recording).call_memory(call)
    if rebuilt is None:
        return call.lparam1, call.lparam2, {}
    return rebuilt.lparam1, rebuilt.lparam2, rebuilt.outputs
