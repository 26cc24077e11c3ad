"""What replay needs to know about one message's memory, taken from the catalog once per
message and class: each node's pointer fields, driver-owned fields, named fields and
lifetime, at the recording's arch.

This is the one place replay reads the catalog (schema/memory); the rest of replay works on
these facts, so tests can state them for a test driver the catalog does not describe.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drvtape.schema.memory.catalog import message_memory
from drvtape.schema.memory.layout import Arch
from drvtape.schema.memory.spec import MessageMemory


@dataclass(frozen=True)
class NodeFacts:
    path: str  # "lparam1", "lparam1.pbSrc"
    param: int  # 1 or 2
    pointers: tuple[tuple[int, int, str], ...] = ()  # (offset, width, child path) of each pointer field
    owned: tuple[tuple[int, int], ...] = ()  # (offset, width): fields the driver writes and owns
    fields: tuple[tuple[str, int, int], ...] = ()  # (name, offset, size) of the struct's named fields
    until: frozenset[str] | None = None  # the block stays alive until one of these messages (same instance)
    zeroed: tuple[tuple[int, int], ...] = ()  # (offset, width): fields passed as 0 (the block starts zeroed)

    def skipped(self) -> list[tuple[int, int]]:
        """(offset, width) ranges replay neither writes from the recording nor compares."""
        return sorted([(o, w) for o, w, _ in self.pointers] + list(self.owned) + list(self.zeroed))

    def field_at(self, offset: int) -> str | None:
        return next((name for name, at, size in self.fields if at <= offset < at + size), None)


@dataclass(frozen=True)
class MessageFacts:
    name: str  # "ICM_DECOMPRESS"
    nodes: dict[str, NodeFacts]  # by path

    def top(self, param: int) -> NodeFacts | None:
        return self.nodes.get(f"lparam{param}")


# (driver class, message) -> its facts, None when the catalog does not know the message
Lookup = Callable[[str, int], MessageFacts | None]


def catalog_lookup(arch: Arch) -> Lookup:
    """The catalog's facts at arch."""
    def lookup(cls: str, msg: int) -> MessageFacts | None:
        memory = message_memory(cls, msg)
        return None if memory is None else facts_from_catalog(memory, arch)

    return lookup


def facts_from_catalog(memory: MessageMemory, arch: Arch) -> MessageFacts:
    nodes = {}
    for node in memory.nodes:
        lifetime = node.lifetime
        until = frozenset(lifetime[1]) if isinstance(lifetime, tuple) and lifetime[0] == "until" else None
        fields = tuple((f.name, f.offset, f.size) for f in node.layout.placed(arch)) if node.layout else ()
        nodes[node.path] = NodeFacts(node.path, node.param, tuple(node.pointer_fields(arch)),
                                     tuple(node.driver_owned(arch)), fields, until, tuple(node.zeroed(arch)))
    return MessageFacts(memory.name, nodes)
