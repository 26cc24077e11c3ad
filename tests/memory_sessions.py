"""Recordings with captured memory, built directly, for replay tests: sessions of
tests/native/drivers/memcodec.c (a fake codec) and the facts a catalog would give for its
messages (the real catalog does not describe a test driver)."""
from __future__ import annotations

import struct
import uuid
from dataclasses import replace

from drvtape.replay.memory_facts import MessageFacts, NodeFacts
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.memory.captured import Phase, blob_key, block
from drvtape.schema.outcome import COMPLETED
from drvtape.schema.recording import RecordedCall, Recording, blobs_in

DRV_OPEN, DRV_CLOSE, DRV_USER = 3, 4, 0x4000
DECODE, STREAM_OPEN, STREAM_CLOSE = DRV_USER, DRV_USER + 1, DRV_USER + 2
FAKEDECODE = struct.Struct("<IIQQII")  # cbStruct, cbSrc, pbSrc, pbDst, cbDst, dwKey
FAKEINFO = struct.Struct("<IIII")  # dwFrames, dwSum, dwLastKey, dwReserved
FAKESTREAM = struct.Struct("<IIQII")  # cbStruct, dwFlags, dwDriver, dwMagic, dwReserved
STREAM_MAGIC = 0x5354524D
RECORDED_ID = 0x0000_0210_0000_1230  # what DRV_OPEN returned in the recording
RECORDED_STREAM = 0x0000_0210_0000_4560  # the recording's driver's own pointer in dwDriver
DECODE_AT, INFO_AT, SRC_AT, DST_AT, STREAM_AT = 0x1000, 0x2000, 0x3000, 0x4000, 0x5000

DECODE_FIELDS = (("cbStruct", 0, 4), ("cbSrc", 4, 4), ("pbSrc", 8, 8), ("pbDst", 16, 8), ("cbDst", 24, 4),
                 ("dwKey", 28, 4))
INFO_FIELDS = (("dwFrames", 0, 4), ("dwSum", 4, 4), ("dwLastKey", 8, 4), ("dwReserved", 12, 4))
STREAM_FIELDS = (("cbStruct", 0, 4), ("dwFlags", 4, 4), ("dwDriver", 8, 8), ("dwMagic", 16, 4),
                 ("dwReserved", 20, 4))


def stream_node(owned: bool = True) -> NodeFacts:
    return NodeFacts("lparam1", 1, owned=((8, 8),) if owned else (), fields=STREAM_FIELDS,
                     until=frozenset({"FAKE_STREAM_CLOSE"}))


def memcodec_facts(owned_at_close: bool = True) -> dict[int, MessageFacts]:
    return {
        DRV_OPEN: MessageFacts("DRV_OPEN", {}),
        DRV_CLOSE: MessageFacts("DRV_CLOSE", {}),
        DECODE: MessageFacts("FAKE_DECODE", {
            "lparam1": NodeFacts("lparam1", 1, pointers=((8, 8, "lparam1.pbSrc"), (16, 8, "lparam1.pbDst")),
                                 fields=DECODE_FIELDS),
            "lparam1.pbSrc": NodeFacts("lparam1.pbSrc", 1),
            "lparam1.pbDst": NodeFacts("lparam1.pbDst", 1),
            "lparam2": NodeFacts("lparam2", 2, fields=INFO_FIELDS),
        }),
        STREAM_OPEN: MessageFacts("FAKE_STREAM_OPEN", {"lparam1": stream_node()}),
        STREAM_CLOSE: MessageFacts("FAKE_STREAM_CLOSE", {"lparam1": stream_node(owned_at_close)}),
    }


def memcodec_lookup(owned_at_close: bool = True):
    facts = memcodec_facts(owned_at_close)
    return lambda cls, msg: facts.get(msg)


def decoded(src: bytes, size: int, key: int) -> bytes:
    """memcodec.c's decode."""
    return bytes(src[i % len(src)] ^ ((key + i) & 0xFF) for i in range(size))


class _Builder:
    def __init__(self):
        self.calls: list[RecordedCall] = []
        self.blobs: dict[str, bytes] = {}
        self.seq = 0

    def block(self, path: str, phase: Phase, address: int, data: bytes):
        self.blobs[blob_key(data)] = data
        return block(path, phase, address, len(data), data)

    def call(self, msg: int, result: int, *, driver_id: int = RECORDED_ID, lparam1: int = 0, lparam2: int = 0,
             memory_in=(), memory_out=()) -> None:
        seq = self.seq + 1
        self.seq += 2
        self.calls.append(RecordedCall(seq, 0, msg, driver_id, 0x10, lparam1, lparam2, None, result,
                                       returned_at=seq + 1, memory_in=tuple(memory_in),
                                       memory_out=tuple(memory_out)))

    def decode(self, src: bytes, size: int, key: int, frame: int) -> None:
        out = decoded(src, size, key)
        head = FAKEDECODE.pack(FAKEDECODE.size, len(src), SRC_AT, DST_AT, size, key)
        self.call(DECODE, size, lparam1=DECODE_AT, lparam2=INFO_AT,
                  memory_in=[self.block("lparam1", Phase.CALL, DECODE_AT, head),
                             self.block("lparam1.pbSrc", Phase.CALL, SRC_AT, src)],
                  memory_out=[self.block("lparam1.pbDst", Phase.RETURN, DST_AT, out),
                              self.block("lparam2", Phase.RETURN, INFO_AT,
                                         FAKEINFO.pack(frame, sum(out), key, 0))])


def memcodec_session() -> Recording:
    """open, two decodes through the same buffers, a stream opened and closed, close."""
    b = _Builder()
    b.call(DRV_OPEN, RECORDED_ID, driver_id=0)
    b.decode(bytes(range(40, 90)), 300, 7, 1)
    b.decode(b"frame two", 300, 200, 2)
    before = FAKESTREAM.pack(FAKESTREAM.size, 3, 0, 0, 0)
    opened = FAKESTREAM.pack(FAKESTREAM.size, 3, RECORDED_STREAM, STREAM_MAGIC, 0)
    b.call(STREAM_OPEN, 0, lparam1=STREAM_AT, memory_in=[b.block("lparam1", Phase.CALL, STREAM_AT, before)],
           memory_out=[b.block("lparam1", Phase.RETURN, STREAM_AT, opened)])
    b.call(STREAM_CLOSE, 0, lparam1=STREAM_AT, memory_in=[b.block("lparam1", Phase.CALL, STREAM_AT, opened)])
    b.call(DRV_CLOSE, 1)
    header = SessionHeader(id=uuid.uuid4(), driver="memcodec.dll", started_at=utc_now(), source="test")
    return Recording(header, b.calls, COMPLETED, blobs_in(b.blobs))


def with_output_byte_changed(recording: Recording, seq: int, path: str, offset: int) -> Recording:
    """A copy of the recording with one byte of a recorded output block changed."""
    calls = []
    blobs = {b.sha256: recording.blob(b.sha256) for c in recording.calls for b in (*c.memory_in, *c.memory_out)}
    for call in recording.calls:
        if call.seq == seq:
            out = []
            for b in call.memory_out:
                if b.path == path:
                    data = bytearray(recording.blob(b.sha256))
                    data[offset] ^= 0xFF
                    blobs[blob_key(bytes(data))] = bytes(data)
                    b = b.model_copy(update={"sha256": blob_key(bytes(data))})
                out.append(b)
            call = replace(call, memory_out=tuple(out))
        calls.append(call)
    return replace(recording, calls=calls, load_blobs=blobs_in(blobs), _blob_cache={})


def without_memory(recording: Recording, seq: int) -> Recording:
    """A copy of the recording in which one call's memory was not captured (as by an older drvtape)."""
    return replace(recording, calls=[replace(c, memory_in=(), memory_out=()) if c.seq == seq else c
                                     for c in recording.calls])
