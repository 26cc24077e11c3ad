"""Captured memory as `show`, `events --json` and the timeline show it: each block's place,
size and flags, for a struct the catalog knows its fields by name, for a string its text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from drvtape.schema.memory.captured import MemoryBlock
from drvtape.schema.memory.decode import decode_fields, decode_text
from drvtape.schema.memory.layout import Arch
from drvtape.schema.memory.spec import MessageMemory


@dataclass(frozen=True)
class CapturedBytes:
    """What naming the fields of captured memory needs: the layouts' arch and the bytes of
    the blocks shown (by sha256)."""

    arch: Arch = "x64"
    blobs: Mapping[str, bytes] = field(default_factory=dict)


class LoadedOnUse(Mapping[str, bytes]):
    """Blob bytes fetched on first use and kept (load: the store's blobs(keys)), for a view
    that shows the fields of a few structs among many blocks, never the frames."""

    def __init__(self, load: Callable[[Iterable[str]], dict[str, bytes]]):
        self._load = load
        self._seen: dict[str, bytes | None] = {}

    def __getitem__(self, key: str) -> bytes:
        if key not in self._seen:
            self._seen[key] = self._load([key]).get(key)
        found = self._seen[key]
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in self._seen.items() if v is not None)

    def __len__(self) -> int:
        return sum(v is not None for v in self._seen.values())


def block_fields(block: MemoryBlock, message: MessageMemory | None, captured: CapturedBytes) -> dict | None:
    """The named fields of a block whose catalog node has a layout and whose bytes are at
    hand (a truncated block: the fields it holds); None otherwise."""
    node = None if message is None else message.find(block.path)
    if node is None or node.layout is None:
        return None
    data = captured.blobs.get(block.sha256)
    return None if data is None else decode_fields(node, captured.arch, data)


def block_json(block: MemoryBlock, message: MessageMemory | None, arch: Arch,
               blobs: Mapping[str, bytes]) -> dict:
    """One block as JSON, with "fields" when block_fields names them, "text" when the
    message's catalog entry makes the block's path a string."""
    data = block.model_dump(mode="json")
    fields = block_fields(block, message, CapturedBytes(arch, blobs))
    if fields is not None:
        data["fields"] = fields
    node = None if message is None else message.find(block.path)
    captured = blobs.get(block.sha256)
    text = decode_text(node, captured) if node is not None and captured is not None else None
    if text is not None:
        data["text"] = text
    return data


def memory_json(blocks: Iterable[MemoryBlock], message: MessageMemory | None, arch: Arch,
                blobs: Mapping[str, bytes]) -> list[dict]:
    return [block_json(b, message, arch, blobs) for b in blocks]


def block_text(block: MemoryBlock, message: MessageMemory | None, captured: CapturedBytes) -> str:
    """One line: lparam1.lpbiInput 40 B (truncated) {biSize=40, biWidth=320, ...}."""
    node = None if message is None else message.find(block.path)
    what = f" {node.layout.name}" if node is not None and node.layout is not None else ""
    flags = [name for name, on in (("truncated", block.truncated), ("unreadable", block.unreadable)) if on]
    text = f"{block.path}{what} {block.size} B" + (f" ({', '.join(flags)})" if flags else "")
    fields = block_fields(block, message, captured)
    if fields:
        pointers = {f.name for f in node.layout.fields if f.ctype.pointer}
        text += " {" + ", ".join(f"{name}={hex(value) if name in pointers else value}"
                                 for name, value in fields.items()) + "}"
    return text


def memory_text(blocks: Iterable[MemoryBlock], message: MessageMemory | None, captured: CapturedBytes) -> str:
    return "\n".join(block_text(b, message, captured) for b in blocks)
