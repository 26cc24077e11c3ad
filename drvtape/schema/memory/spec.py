"""The shape of a catalog entry: what each lParam of a message is (a value, or a pointer to
memory with a direction, a layout, a size and pointers of its own), written as a small tree
(Ptr) in the class tables (icm.py, acm.py, drv.py) and flattened here into the nodes every
user walks (MessageMemory.nodes: a parent before its children, a size's source before the
node it sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from drvtape.schema.memory.layout import Arch, StructLayout
from drvtape.schema.memory.sizes import PARENT, SELF, Size

CALL = "call"  # the memory lives for the call only
Lifetime = str | tuple[str, tuple[str, ...]]  # CALL, or ("until", closing message names)


class Direction(IntEnum):
    IN = 1  # the driver reads it: captured at call
    OUT = 2  # the driver writes it: captured at return
    INOUT = 3  # both


@dataclass(frozen=True)
class Ptr:
    """A pointer parameter or field: what it points to. children: the followed pointer
    fields of `layout` by name; until: the messages that end the application's keeping it
    alive (after the one it is passed to); driver_owned: fields of `layout` the driver owns;
    zeroed: fields replay passes as 0 and never compares (a window of the recording process);
    text: raw memory that holds WCHAR text (shown as text)."""

    direction: Direction
    size: Size
    layout: StructLayout | None = None
    children: tuple[tuple[str, Ptr], ...] = ()
    until: tuple[str, ...] = ()
    driver_owned: tuple[str, ...] = ()
    zeroed: tuple[str, ...] = ()
    text: bool = False


def points_to(direction: Direction, layout: StructLayout | None, size: Size, *,
              until: tuple[str, ...] = (), driver_owned: tuple[str, ...] = (), zeroed: tuple[str, ...] = (),
              text: bool = False, **children: Ptr) -> Ptr:
    return Ptr(direction, size, layout, tuple(children.items()), until, driver_owned, zeroed, text)


@dataclass(frozen=True)
class Message:
    """One message of a class table: lparam1/lparam2 are a Ptr or the meaning of a value."""

    code: int
    name: str
    lparam1: Ptr | str
    lparam2: Ptr | str
    returns: str = ""


@dataclass(frozen=True)
class Node:
    path: str  # "lparam1", "lparam1.lpbiInput"
    param: int  # 1 or 2
    parent: str | None  # None: the lParam itself points here
    parent_field: str | None  # the pointer field of the parent that points here
    parent_layout: StructLayout | None
    direction: Direction
    layout: StructLayout | None  # None: raw bytes
    size: Size
    size_source: str  # the path of the node the size reads
    source_layout: StructLayout | None
    lifetime: Lifetime
    child_fields: tuple[tuple[str, str], ...]  # (pointer field of layout, child path)
    driver_owned_fields: tuple[str, ...]
    zeroed_fields: tuple[str, ...] = ()
    text: bool = False  # WCHAR text

    def ptr_offset(self, arch: Arch) -> int:
        """Offset of the pointer to this node in its parent (0 for a top-level lParam)."""
        return 0 if self.parent is None else self.parent_layout.offset(self.parent_field, arch)

    def pointer_fields(self, arch: Arch) -> list[tuple[int, int, str]]:
        placed = {name: self.layout.field(name, arch) for name, _ in self.child_fields}
        return [(placed[name].offset, placed[name].size, child) for name, child in self.child_fields]

    def driver_owned(self, arch: Arch) -> list[tuple[int, int]]:
        return [(p.offset, p.size) for p in (self.layout.field(n, arch) for n in self.driver_owned_fields)]

    def zeroed(self, arch: Arch) -> list[tuple[int, int]]:
        return [(p.offset, p.size) for p in (self.layout.field(n, arch) for n in self.zeroed_fields)]


@dataclass(frozen=True)
class MessageMemory:
    code: int
    name: str
    lparam1: str  # what lParam1 is, in words
    lparam2: str
    returns: str
    nodes: tuple[Node, ...] = field(default=())

    def find(self, path: str) -> Node | None:
        return next((n for n in self.nodes if n.path == path), None)

    def node(self, path: str) -> Node:
        found = self.find(path)
        if found is None:
            raise KeyError(f"{self.name} has no memory at {path!r}")
        return found

    def index(self, path: str) -> int:
        return [n.path for n in self.nodes].index(path)


def flatten(message: Message) -> MessageMemory:
    nodes: list[Node] = []
    meanings = []
    for param, spec in ((1, message.lparam1), (2, message.lparam2)):
        if isinstance(spec, Ptr):
            _add(nodes, f"lparam{param}", param, None, None, None, spec, message.name)
            meanings.append(_describe(spec))
        else:
            meanings.append(spec)
    return MessageMemory(message.code, message.name, meanings[0], meanings[1], message.returns, tuple(nodes))


def _add(nodes: list[Node], path: str, param: int, parent: str | None, parent_field: str | None,
         parent_layout: StructLayout | None, spec: Ptr, message: str) -> None:
    source, source_layout = _size_source(nodes, path, parent, parent_layout, spec)
    _check_pointers_followed(spec, path, message)
    nodes.append(Node(
        path, param, parent, parent_field, parent_layout, spec.direction, spec.layout, spec.size, source,
        source_layout, ("until", spec.until) if spec.until else CALL,
        tuple((name, f"{path}.{name}") for name, _ in spec.children), spec.driver_owned, spec.zeroed, spec.text,
    ))
    for name, child in spec.children:
        _add(nodes, f"{path}.{name}", param, path, name, spec.layout, child, message)


def _size_source(nodes: list[Node], path: str, parent: str | None, parent_layout: StructLayout | None,
                 spec: Ptr) -> tuple[str, StructLayout | None]:
    """Resolve SELF, PARENT or a sibling field name to a node path that precedes this one."""
    source = spec.size.source
    if source == SELF:
        return path, spec.layout
    if source == PARENT:
        return parent, parent_layout
    sibling = f"{parent}.{source}"
    for n in nodes:
        if n.path == sibling:
            return sibling, n.layout
    raise ValueError(f"{path}: its size reads {sibling}, which is not listed before it")


def _check_pointers_followed(spec: Ptr, path: str, message: str) -> None:
    """Every pointer field of a layout is followed: replay must never pass a recorded address."""
    if spec.layout is None:
        return
    pointers = {f.name for f in spec.layout.fields if f.ctype.pointer}
    followed = {name for name, _ in spec.children}
    if pointers != followed:
        raise ValueError(f"{message} {path}: pointer fields {sorted(pointers)} but follows {sorted(followed)}")


def _describe(spec: Ptr) -> str:
    what = spec.layout.name if spec.layout is not None else "bytes"
    return f"pointer to {what} ({spec.direction.name.lower()})"
