"""Captured memory as `show`, `events --json` and the timeline show it: each block's place,
size and flags, for a struct the catalog knows its fields by name, for a string its text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from drvtape.schema.memory.captured import MemoryBlock
from drvtape.schema.memory.decode import decode_fields, decode_text
from drvtape.schema.memory.layout import Arch
from drvtape.schema.memory.spec import MessageMemory


def block_json(block: MemoryBlock, message: MessageMemory | None, arch: Arch,
               blobs: Mapping[str, bytes]) -> dict:
    """One block as JSON; "fields" when the message's catalog entry gives the block's path a
    layout and its bytes are at hand (a truncated block: the fields it holds), "text" when
    it makes the path a string."""
    data = block.model_dump(mode="json")
    node = None if message is None else message.find(block.path)
    captured = blobs.get(block.sha256)
    if node is not None and node.layout is not None and captured is not None:
        data["fields"] = decode_fields(node, arch, captured)
    text = decode_text(node, captured) if node is not None and captured is not None else None
    if text is not None:
        data["text"] = text
    return data


def memory_json(blocks: Iterable[MemoryBlock], message: MessageMemory | None, arch: Arch,
                blobs: Mapping[str, bytes]) -> list[dict]:
    return [block_json(b, message, arch, blobs) for b in blocks]

