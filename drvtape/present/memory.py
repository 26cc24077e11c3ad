"""Captured memory as `show`, `events --json` and the timeline show it: each block's place,
size and flags, for a struct the catalog knows its fields by name, for a string its text,
and (for `show --seq`) the bytes past the fields, a frame or a colour table, as their size
and first bytes."""

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
    first_bytes: int = 0  # > 0: show this many of the bytes past a block's fields


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


def past_fields(block: MemoryBlock, message: MessageMemory | None, captured: CapturedBytes) -> tuple[int, bytes] | None:
    """(offset, bytes) of a block's captured bytes past its struct's fields (a BITMAPINFO's
    colour table, a WAVEFORMATEX's extension), or all of a raw block's (a frame, an audio
    buffer); None when there are none or the bytes are not at hand."""
    data = captured.blobs.get(block.sha256)
    if data is None:
        return None
    node = None if message is None else message.find(block.path)
    start = 0 if node is None or node.layout is None else node.layout.size(captured.arch)
    return (start, data[start:]) if len(data) > start else None


def bytes_hex(data: bytes) -> str:
    return data.hex(" ")


def block_string(block: MemoryBlock, message: MessageMemory | None, blobs: Mapping[str, bytes]) -> str | None:
    """The text of a block the message's catalog entry makes a string; None for any other."""
    node = None if message is None else message.find(block.path)
    data = blobs.get(block.sha256)
    return decode_text(node, data) if node is not None and data is not None else None


def block_json(block: MemoryBlock, message: MessageMemory | None, arch: Arch,
               blobs: Mapping[str, bytes], first_bytes: int = 0) -> dict:
    """One block as JSON, with "fields" when block_fields names them, "text" when the
    message's catalog entry makes the block's path a string, and with first_bytes "bytes":
    the offset, length and first bytes of what lies past the fields."""
    data = block.model_dump(mode="json")
    captured = CapturedBytes(arch, blobs, first_bytes)
    fields = block_fields(block, message, captured)
    if fields is not None:
        data["fields"] = fields
    text = block_string(block, message, blobs)
    if text is not None:
        data["text"] = text
    rest = past_fields(block, message, captured) if first_bytes else None
    if rest is not None:
        data["bytes"] = {"offset": rest[0], "length": len(rest[1]), "first": bytes_hex(rest[1][:first_bytes])}
    return data


def memory_json(blocks: Iterable[MemoryBlock], message: MessageMemory | None, arch: Arch,
                blobs: Mapping[str, bytes], first_bytes: int = 0) -> list[dict]:
    return [block_json(b, message, arch, blobs, first_bytes) for b in blocks]


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


def block_rows(block: MemoryBlock, message: MessageMemory | None, captured: CapturedBytes) -> list[tuple[str, ...]]:
    """A block as table rows (memory, field, offset, value): its path, struct, size, flags and
    sha256; a row per named field (a pointer names the block it points to); its text; then
    the bytes past the fields as their length and first captured.first_bytes bytes."""
    node = None if message is None else message.find(block.path)
    layout = None if node is None else node.layout
    what = layout.name if layout is not None else ("text" if node is not None and node.text else "bytes")
    rows = [(block.path, what, "", _block_summary(block))]
    fields = block_fields(block, message, captured) or {}
    if fields:
        offsets = {p.name: p.offset for p in layout.placed(captured.arch)}
        children = dict(node.child_fields)
        for name, value in fields.items():
            if name in children:
                shown = f"0x{value:X} -> {children[name]}" if value else "0x0 (NULL)"
            else:
                shown = _field_text(value)
            rows.append(("", name, str(offsets[name]), shown))
    text = block_string(block, message, captured.blobs)
    if text is not None:
        rows.append(("", "(text)", "0", repr(text)))
    rest = past_fields(block, message, captured) if captured.first_bytes else None
    if rest is not None:
        start, data = rest
        more = " ..." if len(data) > captured.first_bytes else ""
        rows.append(("", "(bytes)", str(start), f"{len(data)} B: {bytes_hex(data[:captured.first_bytes])}{more}"))
    elif block.sha256 not in captured.blobs and block.captured:
        rows.append(("", "(bytes)", "", "not in this database"))
    return rows


def _block_summary(block: MemoryBlock) -> str:
    if block.unreadable:
        return f"{block.size} B, unreadable: nothing captured"
    cut = f", truncated: {block.captured} B captured" if block.truncated else ""
    return f"{block.size} B{cut}, sha256 {block.sha256[:16]}"


def _field_text(value: int | str | list[int]) -> str:
    """A decoded field as a cell: text quoted, numbers in decimal with their hex from 0x10000
    on (flags, FOURCCs, addresses), a FOURCC also as its characters, long arrays cut."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value[:8])) + (", ...]" if len(value) > 8 else "]")
    if value < 0x10000:
        return str(value)
    chars = value.to_bytes(4, "little").decode("latin-1") if value < 1 << 32 else ""
    fourcc = f" '{chars}'" if len(chars) == 4 and all(c.isalnum() or c == " " for c in chars) else ""
    return f"{value} (0x{value:X}){fourcc}"
