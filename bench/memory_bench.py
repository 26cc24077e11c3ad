"""Replay with memory through drvhost: messages/s of a session of 320x240 32-bit frame decodes
(tests/native/drivers/memcodec.c: a FAKEDECODE in, 4 KiB of source, a 307,200-byte frame and a
FAKEINFO out, every output compared), beside as many messages that carry no memory."""
from __future__ import annotations

import struct
import time
import uuid
from pathlib import Path

from drvtape.dllhost.build import compile_pe
from drvtape.replay import replay_recording
from drvtape.replay.memory_facts import MessageFacts, NodeFacts
from drvtape.runtime.targets import parse_target
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.memory.captured import Phase, blob_key, block
from drvtape.schema.outcome import COMPLETED
from drvtape.schema.recording import RecordedCall, Recording, blobs_in

MEMCODEC = Path(__file__).resolve().parents[1] / "tests" / "native" / "drivers" / "memcodec.c"
DRV_OPEN, DECODE, NO_MEMORY = 3, 0x4000, 0x4009  # memcodec answers 1 to a message it does not know
OPENED = 0x210_0000_1230
FRAME = 320 * 240 * 4
SOURCE = bytes(range(256)) * 16  # 4 KiB
FACTS = {
    DRV_OPEN: MessageFacts("DRV_OPEN", {}),
    DECODE: MessageFacts("FAKE_DECODE", {
        "lparam1": NodeFacts("lparam1", 1, pointers=((8, 8, "lparam1.pbSrc"), (16, 8, "lparam1.pbDst"))),
        "lparam1.pbSrc": NodeFacts("lparam1.pbSrc", 1),
        "lparam1.pbDst": NodeFacts("lparam1.pbDst", 1),
        "lparam2": NodeFacts("lparam2", 2),
    }),
}


def _decoded(key: int) -> bytes:
    """memcodec.c's decode of SOURCE into a FRAME-byte frame: a 256-byte pattern, repeated."""
    period = bytes(SOURCE[i] ^ ((key + i) & 0xFF) for i in range(256))
    return period * (FRAME // 256)


def _session(frames: int, with_memory: bool) -> Recording:
    blobs: dict[str, bytes] = {}

    def captured(path, phase, address, data):
        blobs[blob_key(data)] = data
        return block(path, phase, address, len(data), data)

    calls = [RecordedCall(1, 0, DRV_OPEN, 0, 0x10, 0, 0, None, OPENED, 2)]
    out = _decoded(0)
    info = struct.pack("<IIII", 0, sum(out) & 0xFFFFFFFF, 0, 0)
    head = struct.pack("<IIQQII", 32, len(SOURCE), 0x3000, 0x4000, FRAME, 0)
    memory_in = (captured("lparam1", Phase.CALL, 0x1000, head), captured("lparam1.pbSrc", Phase.CALL, 0x3000, SOURCE))
    for i in range(frames):
        seq = 3 + 2 * i
        memory_out = (captured("lparam1.pbDst", Phase.RETURN, 0x4000, out),
                      captured("lparam2", Phase.RETURN, 0x2000, info[:0] + struct.pack("<I", i + 1) + info[4:]))
        if with_memory:
            calls.append(RecordedCall(seq, 0, DECODE, OPENED, 0x10, 0x1000, 0x2000, None, FRAME, seq + 1,
                                      memory_in=memory_in, memory_out=memory_out))
        else:
            calls.append(RecordedCall(seq, 0, NO_MEMORY, OPENED, 0x10, 0, 0, None, 1, seq + 1))
    header = SessionHeader(id=uuid.uuid4(), driver="memcodec.dll", started_at=utc_now(), source="bench")
    return Recording(header, calls, COMPLETED, blobs_in(blobs))


def bench_memory_replay(frames: int) -> dict:
    target = parse_target(f"dll:{compile_pe([MEMCODEC], dll=True)}")
    out = {"what": f"dll: replay of {frames} 320x240x32 frame decodes (memcodec.c), drvhost start-up included",
           "frame_bytes": FRAME}
    for name, with_memory in (("with_memory", True), ("no_memory", False)):
        recording = _session(frames, with_memory)
        started = time.perf_counter()
        report = replay_recording(recording, target, lookup=lambda _cls, msg: FACTS.get(msg))
        seconds = time.perf_counter() - started
        out[name] = {"messages": len(recording.calls), "seconds": round(seconds, 3),
                     "messages_per_s": round(len(recording.calls) / seconds, 1),
                     "outputs_compared": report.memory[0].outputs, "bytes_compared": report.memory[0].bytes,
                     "reproduced": report.reproduced}
    return out
