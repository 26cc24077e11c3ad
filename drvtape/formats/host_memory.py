"""The memory part of the drvhost protocol (v3, drvhost.c's header comment): the ops that
rebuild a call's memory in the host before it is issued, and read back what the driver
wrote after it returned.

Blocks are named by id (1, 2, ...; 0 is NULL). A block lives from its ALLOC to its FREE and
may serve many calls; the host knows no layouts, only ids, offsets and bytes.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from drvtape.formats.host_payloads import payload_image

ALLOC, WRITE, PATCH, FREE, READ = range(1, 6)
_OP = struct.Struct("<IIQQII")
POINTER_WIDTH = 8  # drvhost is built for x64


@dataclass(frozen=True)
class HostOp:
    op: int
    block: int
    offset: int = 0
    length: int = 0  # ALLOC: size; READ: bytes; PATCH: offset in the target block
    target: int = 0  # PATCH: the block whose address is stored (0: NULL)
    width: int = 0  # PATCH: 4 or 8
    data: bytes = b""  # WRITE


def alloc(block: int, size: int) -> HostOp:
    return HostOp(ALLOC, block, length=size)


def write(block: int, offset: int, data: bytes) -> HostOp:
    return HostOp(WRITE, block, offset, len(data), data=data)


def patch(block: int, offset: int, width: int, target: int, target_offset: int = 0) -> HostOp:
    return HostOp(PATCH, block, offset, target_offset, target=target, width=width)


def read(block: int, offset: int, length: int) -> HostOp:
    return HostOp(READ, block, offset, length)


def free(block: int) -> HostOp:
    return HostOp(FREE, block)


def encode_ops(ops: Iterable[HostOp]) -> bytes:
    parts = []
    for op in ops:
        parts.append(_OP.pack(op.op, op.block, op.offset, op.length, op.target, op.width))
        if op.op == WRITE:
            parts.append(op.data + b"\0" * (-len(op.data) % 8))
    return b"".join(parts)


def payload_ops(payload: dict, block: int) -> tuple[HostOp, ...]:
    """A recorded DRV_* payload (host_payloads.py's images) as one block living for its call."""
    image, relocs = payload_image(payload)
    return (alloc(block, len(image)), write(block, 0, image),
            *(patch(block, at, POINTER_WIDTH, block, target) for at, target in relocs), free(block))
