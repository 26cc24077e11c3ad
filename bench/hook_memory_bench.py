"""The hook and in-process replay with memory: ICM_DECOMPRESS of a 320x240 8-bit frame through
sim:vfw-decoder, each frame distinct (a new blob every call, the worst case for storage)."""

from __future__ import annotations

import statistics
from pathlib import Path
from time import perf_counter, perf_counter_ns

from drvtape.recorder.hook import Recorder
from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.memory import build_call_memory
from drvtape.runtime.sim.codec import (
    BI_RGB, ICM_DECOMPRESS, ICM_DECOMPRESS_BEGIN, ICM_DECOMPRESS_END, SRLE_FOURCC, VfwDecoder,
)
from drvtape.runtime.targets import parse_target
from drvtape.schema.memory.catalog import message_memory
from drvtape.schema.memory.classes import DriverClass, fourcc
from drvtape.schema.memory.structs import ICDECOMPRESS
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.payloads import IcOpen
from drvtape.store import Store

WIDTH, HEIGHT = 320, 240
HDRVR = 0x77


def _frame(i: int) -> bytes:
    """Run-length pairs covering the picture, values depending on i: every frame distinct."""
    runs, left, n = bytearray(), WIDTH * HEIGHT, 0
    while left:
        count = min(255, left)
        runs += bytes([count, (i + n) & 0xFF])
        left, n = left - count, n + 1
    return bytes(runs)


def _begin(proc) -> tuple[int, object, object]:
    instance = proc(0, HDRVR, DRV_OPEN, "vidc.SRLE", IcOpen(dwSize=56, fccType=fourcc("vidc"),
                                                            fccHandler=SRLE_FOURCC))
    source = {"biSize": 40, "biWidth": WIDTH, "biHeight": HEIGHT, "biPlanes": 1, "biBitCount": 8,
              "biCompression": SRLE_FOURCC}
    target = {**source, "biCompression": BI_RGB, "biSizeImage": WIDTH * HEIGHT}
    fmt_in, fmt_out = build_call_memory(message_memory(DriverClass.VFW, ICM_DECOMPRESS_BEGIN), "x64",
                                        {"lparam1": source, "lparam2": target})
    proc(instance, HDRVR, ICM_DECOMPRESS_BEGIN, fmt_in, fmt_out)
    return instance, fmt_in, fmt_out


def _decode_ns(proc, frames: int) -> list[float]:
    """ns of each ICM_DECOMPRESS call (the application's building of its arguments excluded)."""
    instance, fmt_in, fmt_out = _begin(proc)
    entry = message_memory(DriverClass.VFW, ICM_DECOMPRESS)
    output, times = bytes(WIDTH * HEIGHT), []
    for i in range(frames):
        data = _frame(i)
        fmt_in["biSizeImage"] = len(data)
        l1, l2 = build_call_memory(entry, "x64", {"lparam1": {}, "lparam1.lpbiInput": fmt_in, "lparam1.lpInput": data,
                                                  "lparam1.lpbiOutput": fmt_out, "lparam1.lpOutput": output},
                                   (0, ICDECOMPRESS.size("x64")))
        start = perf_counter_ns()
        proc(instance, HDRVR, ICM_DECOMPRESS, l1, l2)
        times.append(perf_counter_ns() - start)
        output = l1.child("lpOutput")
    proc(instance, HDRVR, ICM_DECOMPRESS_END, 0, 0)
    proc(instance, HDRVR, DRV_CLOSE, 0, 0)
    return times


def bench_hook_memory(tmp: Path, frames: int) -> dict:
    bare = statistics.median(_decode_ns(VfwDecoder(), frames))
    db = tmp / "memory.db"
    with Recorder(str(db), driver="vidc.SRLE", target="sim:vfw-decoder") as recorder:
        hooked = statistics.median(_decode_ns(recorder.wrap(VfwDecoder()), frames))
    with Store.open(str(db)) as store, store.reading() as conn:
        blob_bytes = conn.exec_driver_sql("SELECT sum(size) FROM blobs").scalar()
        recording = load_recording(store, "last")
    started = perf_counter()
    report = replay_recording(recording, parse_target("sim:vfw-decoder"))
    replay_s = perf_counter() - started
    return {
        "what": f"ns per ICM_DECOMPRESS of a {WIDTH}x{HEIGHT} 8-bit frame to sim:vfw-decoder, median of "
                f"{frames} distinct frames; recorder writing to a SQLite file; in-process replay of that session",
        "frames": frames,
        "bare_median_ns": round(bare),
        "hooked_median_ns": round(hooked),
        "overhead_ns": round(hooked - bare),
        "blob_bytes_per_frame": round(blob_bytes / frames),
        "replay_messages_per_s": round(len(recording.calls) / replay_s),
        "replay_reproduced": report.reproduced,
    }
