"""The binary protocol between drvtape and native/drvhost (the same text is in drvhost.c).

Everything is little-endian. Python -> host, on the host's stdin:

  hello   u32 magic 'DRVH' (0x48565244), u16 version (5), u16 flags (bit 0: stop on
          divergence; bit 1: FreeLibrary the DLL after the last call; bit 2: end with
          ExitProcess, so DLLs see a process-exit detach, instead of TerminateProcess;
          bit 3: only differences: a RETURN only for a call without an expect, whose result
          diverges from it, that read memory back, or that comes before the call flagged 8),
          u32 timeout_ms (per call), u32 path_units, u32 batch_units,
          then the DLL path as path_units UTF-16 code units (no NUL), then the batch
          file's path as batch_units.
  The host loads the DLL and answers READY (or ERROR, then exits).
  go      u64 the batch file's size, sent once the file is written whole: the host reads
          the batch from it (a file, as Wine 8.0 reads a pipe ten times slower: host_batch.c).
  batch   (the file) u32 n_calls, u32 n_threads, u32 n_blocks, u32 n_after, u64 ops_bytes,
          then n_calls call records of 72 bytes:
            u64 driver_id, u64 hdrvr, i64 lparam1, i64 lparam2, i64 expect,
            u32 msg, u32 thread, u32 flags (1: expect is valid, 2: lparam1 is a block id,
            4: lparam2 is a block id, 8: the recording hung in this call: every earlier
            call's RETURN is sent, and written out before it is issued),
            u32 n_ops (its memory ops),
            u32 id_from (index of the DRV_OPEN that produced driver_id, or 0xFFFFFFFF:
            then the host maps driver_id by the recorded result of DRV_OPENs),
            u32 n_after (how many dependencies it has),
            u32 entry_point (version 4: drvtape.schema.entry_points' code, 0 DriverProc),
            u32 reserved (0)
          A device entry point's call is entry(hdrvr as uDeviceID, msg, driver_id as
          dwUser, lparam1, lparam2), driver_id mapped as a DriverProc call's is; for its
          open (WODM_OPEN ...) driver_id is the instance the recorded driver stored at
          dwUser: the host passes the address of a zeroed DWORD_PTR instead and, when the
          open returns 0, maps the recorded instance to the one stored there.
          then n_after u32 call indices: each call's dependencies in call order (the
          calls that must have returned before it is issued; each < its own index)
          then ops_bytes of memory ops, each call's in call order (host_memory.py): ALLOC,
          WRITE, PATCH run before the call, READ and FREE after it returned. A recorded
          pointer payload (DRV_OPEN's ICOPEN, ...) is one block living for its call.
  The host then runs the calls and exits.

Host -> Python, on its stdout: records with a 32-byte header
  u32 kind, u32 index (of the call in the batch), i64 a, i64 b, u32 tail_len, u32 reserved
followed by tail_len bytes:
  1 READY      a = DLL base address
  2 RETURN     a = LRESULT, b = duration in ns (0 for a call not timed: with only
               differences, one with an expect that does not come before the call flagged 8)
  3 HEARTBEAT  sent when nothing else was for a second, so silence means trouble
  4 DONE       index = number of calls issued; the last record
  5 FAULT      a = exception code, b = offset in the module; tail = module file name
               (UTF-8; empty when the address is in no module, and then b = the address)
  6 HANG       index = the oldest call that has not returned, a = its time in flight (ns)
  7 ERROR      tail = a one-line UTF-8 message (bad input, load failure)
  8 MEMORY     a = block id, b = offset, tail = the bytes (kept as bytes) a READ op asked
               for; a call's MEMORY records come before its RETURN
RETURN records are buffered by the host and flushed when its buffer fills, every ~200 ms,
before a call with flag 8, and before DONE, FAULT, HANG and ERROR. After FAULT, HANG or ERROR the host is gone.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from enum import IntEnum
from typing import NamedTuple

from drvtape.formats.host_calls import HostCall
from drvtape.formats.host_memory import encode_ops, payload_ops
from drvtape.schema.entry_points import entry_point_code

MAGIC = 0x48565244
VERSION = 5
FLAG_STOP_ON_DIVERGENCE = 1
FLAG_ONLY_DIFFERENCES = 8
MAX_HOST_THREADS = 2048  # MAX_THREADS in host_batch.h; 2,000 took 2.3 s under Wine 8.0, 4,096 took 146 s


class HostEnd(IntEnum):
    """How the host ends after the last call (hello flags): a replay ends with TerminateProcess,
    so the driver's DllMain sees no detach the session did not hold; a recording through the
    tap ends as an application would, unloading the driver or exiting with it loaded."""

    TERMINATE = 0
    UNLOAD = 2
    EXIT = 4

CALL_HAS_EXPECT = 1
CALL_P1 = 2
CALL_P2 = 4
CALL_RECORDED_HANG = 8

READY, RETURN, HEARTBEAT, DONE, FAULT, HANG, ERROR, MEMORY = range(1, 9)

_HELLO = struct.Struct("<IHHIII")
_GO = struct.Struct("<Q")
_BATCH = struct.Struct("<IIIIQ")
_CALL = struct.Struct("<QQQQQIIIIIIII")
NO_CALL = 0xFFFFFFFF
RECORD = struct.Struct("<IIqqII")
_M64 = (1 << 64) - 1


def encode_hello(dll_path: str, batch_path: str, timeout_s: float, stop_on_divergence: bool,
                 only_differences: bool = False, end: HostEnd = HostEnd.TERMINATE) -> bytes:
    """The hello; both paths as the host sees them (wine.windows_path)."""
    units = dll_path.encode("utf-16-le", "surrogatepass")
    batch_units = batch_path.encode("utf-16-le", "surrogatepass")
    flags = (FLAG_STOP_ON_DIVERGENCE if stop_on_divergence else 0) | end
    flags |= FLAG_ONLY_DIFFERENCES if only_differences else 0
    timeout_ms = max(1, min(int(timeout_s * 1000), 0xFFFFFFFF))
    return _HELLO.pack(MAGIC, VERSION, flags, timeout_ms, len(units) // 2, len(batch_units) // 2) + units + batch_units


def encode_go(batch_bytes: int) -> bytes:
    """What tells the host the batch file is written whole, and how long it is."""
    return _GO.pack(batch_bytes)


def encode_batch(calls: Sequence[HostCall], threads: Sequence[int], pointer_size: int = 8) -> bytes:
    """The batch for these calls; threads[i] is call i's dense thread index; recorded payloads
    are laid out for a host with pointer_size-byte pointers (the driver's arch)."""
    out = bytearray(_BATCH.size + _CALL.size * len(calls))
    ops: list[bytes] = []
    pack = _CALL.pack_into
    pos = _BATCH.size
    after: list[int] = []
    n_blocks = max((op.block for c in calls for op in c.ops), default=0)
    for call, thread in zip(calls, threads):
        flags = (0 if call.expect is None else CALL_HAS_EXPECT) | (CALL_RECORDED_HANG if call.recorded_hang else 0)
        l1, l2, call_ops = call.lparam1, call.lparam2, call.ops
        if call.block1 is not None:
            flags, l1 = flags | CALL_P1, call.block1
        if call.block2 is not None:
            flags, l2 = flags | CALL_P2, call.block2
        if call.payload1 is not None:
            n_blocks += 1
            flags, l1, call_ops = flags | CALL_P1, n_blocks, call_ops + payload_ops(call.payload1, n_blocks, pointer_size)
        if call.payload2 is not None:
            n_blocks += 1
            flags, l2, call_ops = flags | CALL_P2, n_blocks, call_ops + payload_ops(call.payload2, n_blocks, pointer_size)
        if call_ops:
            ops.append(encode_ops(call_ops))
        pack(out, pos, call.driver_id & _M64, call.hdrvr & _M64, l1 & _M64, l2 & _M64,
             (call.expect or 0) & _M64, call.msg & 0xFFFFFFFF, thread, flags, len(call_ops),
             NO_CALL if call.id_from is None else call.id_from, len(call.after), entry_point_code(call.entry_point), 0)
        after.extend(call.after)
        pos += _CALL.size
    blob = b"".join(ops)
    _BATCH.pack_into(out, 0, len(calls), max(threads, default=0) + 1, n_blocks, len(after), len(blob))
    out += struct.pack(f"<{len(after)}I", *after)
    out += blob
    return bytes(out)


class HostRecord(NamedTuple):
    """One record the host wrote (READY, RETURN, ...)."""

    kind: int
    index: int
    a: int
    b: int
    tail: str  # bytes for a MEMORY record


class HostRecordReader:
    """Feed it the host's output in chunks; it yields whole records."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[HostRecord]:
        buf = self._buf
        buf += chunk
        records = []
        pos, end, size = 0, len(buf), RECORD.size
        unpack = RECORD.unpack_from
        while end - pos >= size:
            kind, index, a, b, tail_len, _ = unpack(buf, pos)
            if end - pos < size + tail_len:
                break
            tail = ""
            if tail_len:
                tail = buf[pos + size:pos + size + tail_len]
                tail = bytes(tail) if kind == MEMORY else tail.decode("utf-8", "replace")
            records.append(HostRecord(kind, index, a, b, tail))
            pos += size + tail_len
        del buf[:pos]
        return records
