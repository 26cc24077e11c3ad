"""The binary protocol between drvtape and native/drvhost (the same text is in drvhost.c).

Everything is little-endian. Python -> host, on the host's stdin:

  hello   u32 magic 'DRVH' (0x48565244), u16 version (2), u16 flags (bit 0: stop on
          divergence; bit 1: FreeLibrary the DLL after the last call; bit 2: end with
          ExitProcess, so DLLs see a process-exit detach, instead of TerminateProcess;
          bit 3: only differences, a RETURN only for a call without an expect or whose
          result diverges from it), u32 timeout_ms (per call), u32 path_units, then the
          DLL path as path_units UTF-16 code units (no NUL).
  The host loads the DLL and answers READY (or ERROR, then exits).
  batch   u32 n_calls, u32 n_threads, u32 n_payloads, u32 n_after, u64 payload_bytes,
          then n_calls call records of 64 bytes:
            u64 driver_id, u64 hdrvr, i64 lparam1, i64 lparam2, i64 expect,
            u32 msg, u32 thread, u32 flags (1: expect is valid, 2: lparam1 is a payload
            index, 4: lparam2 is a payload index, 8: write out the buffered RETURNs
            before issuing it), u32 reserved,
            u32 id_from (index of the DRV_OPEN that produced driver_id, or 0xFFFFFFFF:
            then the host maps driver_id by the recorded result of DRV_OPENs),
            u32 n_after (how many dependencies it has)
          then n_after u32 call indices: each call's dependencies in call order (the
          calls that must have returned before it is issued; each < its own index)
          then payload_bytes of payloads, each: u32 size (<= 524288), u32 n_relocs, size
          bytes of image padded to a multiple of 8, n_relocs x (u32 at, u32 target): the
          host stores the address of image+target at image+at (see payloads.py).
  The host then runs the calls and exits.

Host -> Python, on its stdout: records with a 32-byte header
  u32 kind, u32 index (of the call in the batch), i64 a, i64 b, u32 tail_len, u32 reserved
followed by tail_len bytes:
  1 READY      a = DLL base address
  2 RETURN     a = LRESULT, b = duration in ns
  3 HEARTBEAT  sent when nothing else was for a second, so silence means trouble
  4 DONE       index = number of calls issued; the last record
  5 FAULT      a = exception code, b = offset in the module; tail = module file name
               (UTF-8; empty when the address is in no module, and then b = the address)
  6 HANG       index = the oldest call that has not returned, a = its time in flight (ns)
  7 ERROR      tail = a one-line UTF-8 message (bad input, load failure)
RETURN records are buffered by the host and flushed when its buffer fills, every ~200 ms,
before a call with flag 8, and before DONE, FAULT, HANG and ERROR. After FAULT, HANG or ERROR the host is gone.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from enum import IntEnum
from typing import NamedTuple

from drvtape.formats.host_calls import HostCall
from drvtape.formats.host_payloads import payload_image

MAGIC = 0x48565244
VERSION = 2
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
CALL_FLUSH_FIRST = 8

READY, RETURN, HEARTBEAT, DONE, FAULT, HANG, ERROR = range(1, 8)

_HELLO = struct.Struct("<IHHII")
_BATCH = struct.Struct("<IIIIQ")
_CALL = struct.Struct("<QQQQQIIIIII")
NO_CALL = 0xFFFFFFFF
_PAYLOAD = struct.Struct("<II")
_RELOC = struct.Struct("<II")
RECORD = struct.Struct("<IIqqII")
_M64 = (1 << 64) - 1


def encode_hello(dll_path: str, timeout_s: float, stop_on_divergence: bool,
                 end: HostEnd = HostEnd.TERMINATE, only_differences: bool = False) -> bytes:
    units = dll_path.encode("utf-16-le", "surrogatepass")
    flags = (FLAG_STOP_ON_DIVERGENCE if stop_on_divergence else 0) | end | (
        FLAG_ONLY_DIFFERENCES if only_differences else 0)
    timeout_ms = max(1, min(int(timeout_s * 1000), 0xFFFFFFFF))
    return _HELLO.pack(MAGIC, VERSION, flags, timeout_ms, len(units) // 2) + units


def _encode_payload(payload: dict) -> bytes:
    image, relocs = payload_image(payload)
    parts = [_PAYLOAD.pack(len(image), len(relocs)), image, b"\0" * (-len(image) % 8)]
    parts.extend(_RELOC.pack(at, target) for at, target in relocs)
    return b"".join(parts)


def encode_batch(calls: Sequence[HostCall], threads: Sequence[int]) -> bytes:
    """The batch for these calls; threads[i] is call i's dense thread index."""
    out = bytearray(_BATCH.size + _CALL.size * len(calls))
    payloads: list[bytes] = []
    pack = _CALL.pack_into
    pos = _BATCH.size
    after: list[int] = []
    for call, thread in zip(calls, threads):
        flags = (0 if call.expect is None else CALL_HAS_EXPECT) | (CALL_FLUSH_FIRST if call.flush_first else 0)
        l1, l2 = call.lparam1, call.lparam2
        if call.payload1 is not None:
            flags |= CALL_P1
            l1 = len(payloads)
            payloads.append(_encode_payload(call.payload1))
        if call.payload2 is not None:
            flags |= CALL_P2
            l2 = len(payloads)
            payloads.append(_encode_payload(call.payload2))
        pack(out, pos, call.driver_id & _M64, call.hdrvr & _M64, l1 & _M64, l2 & _M64,
             (call.expect or 0) & _M64, call.msg & 0xFFFFFFFF, thread, flags, 0,
             NO_CALL if call.id_from is None else call.id_from, len(call.after))
        after.extend(call.after)
        pos += _CALL.size
    blob = b"".join(payloads)
    _BATCH.pack_into(out, 0, len(calls), max(threads, default=0) + 1, len(payloads), len(after), len(blob))
    out += struct.pack(f"<{len(after)}I", *after)
    out += blob
    return bytes(out)


class HostRecord(NamedTuple):
    """One record the host wrote (READY, RETURN, ...)."""

    kind: int
    index: int
    a: int
    b: int
    tail: str


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
            tail = buf[pos + size:pos + size + tail_len].decode("utf-8", "replace") if tail_len else ""
            records.append(HostRecord(kind, index, a, b, tail))
            pos += size + tail_len
        del buf[:pos]
        return records
