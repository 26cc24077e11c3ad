"""Captured bytes as named struct fields, for display (show, events --json, timeline) and
for naming the field a replay difference falls in."""

from __future__ import annotations

from drvtape.schema.memory.layout import Arch, PlacedField, StructLayout
from drvtape.schema.memory.spec import Node


def decode_fields(node: Node, arch: Arch, data: bytes) -> dict:
    """{field: value} of the node's layout over data: integers, WCHAR arrays as text (up to
    the first NUL), other arrays as lists, FOURCC fields (fcc*) as their four characters
    when printable. Fields beyond the captured bytes are left out; raw memory gives {}."""
    return {} if node.layout is None else decode_layout(node.layout, arch, data)


def decode_text(node: Node, data: bytes) -> str | None:
    """A text node's WCHARs (MCI_OPEN_PARMS.lpstrElementName, MCI_INFO_PARMS.lpstrReturn) up
    to the first NUL; None for any other node."""
    if not node.text:
        return None
    return data.decode("utf-16-le", errors="replace").split("\0", 1)[0]


def decode_layout(layout: StructLayout, arch: Arch, data: bytes) -> dict:
    return {p.name: field_value(p, data[p.offset:p.offset + p.size])
            for p in layout.placed(arch) if p.offset + p.size <= len(data)}


def field_value(placed: PlacedField, raw: bytes) -> int | str | list[int]:
    ctype = placed.ctype
    if ctype.char:
        return raw.decode("utf-16-le", errors="replace").split("\0", 1)[0]
    width = len(raw) // placed.count
    values = [int.from_bytes(raw[i:i + width], "little", signed=ctype.signed) for i in range(0, len(raw), width)]
    if placed.count > 1:
        return values
    if placed.name.startswith("fcc") and width == 4:
        text = raw.decode("latin-1")
        if text.isprintable():
            return text
    return values[0]


def field_at(layout: StructLayout, arch: Arch, offset: int) -> str | None:
    """The name of the field holding byte `offset` (name[i] inside an array), or None in padding
    or past the struct."""
    for p in layout.placed(arch):
        if p.offset <= offset < p.offset + p.size:
            if p.count == 1:
                return p.name
            return f"{p.name}[{(offset - p.offset) // (p.size // p.count)}]"
    return None
