"""The MEMORY record of tape version 3 (its layout is in drvtape.formats.tape's format text):
one block of the memory behind a call's lParam, at a catalog path such as "lparam1.lpbiInput"
(drvtape.schema.memory), read by the tap before the call (phase 1) or after it returned
(phase 2)."""
from __future__ import annotations

import struct
from typing import NamedTuple

REC_MEMORY = 7
PHASE_CALL, PHASE_RETURN = 1, 2
MF_TRUNCATED, MF_UNREADABLE = 1, 2
MEMORY = struct.Struct("<IIIIQQQIIHH")  # 52


class MemoryRecord(NamedTuple):
    pid: int
    thread: int
    phase: int  # PHASE_CALL or PHASE_RETURN
    call_seq: int  # the seq of the CALL record it belongs to
    address: int  # in the recording process: identity only
    size: int  # bytes the catalog says the driver may touch there
    flags: int  # MF_TRUNCATED, MF_UNREADABLE
    path: str
    data: bytes  # the captured bytes: size of them, fewer when truncated, none when unreadable
    offset: int = -1  # of the record's frame in the tape

    @property
    def truncated(self) -> bool:
        return bool(self.flags & MF_TRUNCATED)

    @property
    def unreadable(self) -> bool:
        return bool(self.flags & MF_UNREADABLE)


def parse_memory(offset: int, body: bytes) -> MemoryRecord:
    """The MEMORY record in body; ValueError when its fields do not add up."""
    if len(body) < MEMORY.size:
        raise ValueError(f"memory record of {len(body)} bytes (at least {MEMORY.size} expected)")
    (_, pid, thread, phase, call_seq, address, size, captured, flags, path_len, _) = MEMORY.unpack_from(body)
    if phase not in (PHASE_CALL, PHASE_RETURN):
        raise ValueError(f"memory record of phase {phase} (1 call or 2 return expected)")
    if len(body) != MEMORY.size + path_len + captured:
        raise ValueError(f"memory record of {len(body)} bytes announcing {path_len} of path and {captured} captured")
    if captured > size or (captured < size and not flags & (MF_TRUNCATED | MF_UNREADABLE)):
        raise ValueError(f"memory record capturing {captured} of {size} bytes without saying it was cut")
    if flags & MF_UNREADABLE and captured:
        raise ValueError("memory record marked unreadable with captured bytes")
    raw_path = body[MEMORY.size:MEMORY.size + path_len]
    if not raw_path or not raw_path.isascii():
        raise ValueError("memory record without an ASCII path")
    return MemoryRecord(pid, thread, phase, call_seq, address, size, flags, raw_path.decode("ascii"),
                        body[MEMORY.size + path_len:], offset)
