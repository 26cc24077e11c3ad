"""An application decoding frames through a VfW codec's DriverProc as msvfw32 would send the
messages (ICOpen, ICDecompressQuery/Begin, ICDecompress per frame, ICDecompressEnd,
ICClose), its pointer parameters as MemoryRefs (drvtape.runtime.memory): for the sim codecs."""

from drvtape.runtime.memory import build_call_memory
from drvtape.runtime.sim.codec import (
    BI_RGB, ICM_DECOMPRESS, ICM_DECOMPRESS_BEGIN, ICM_DECOMPRESS_END, ICM_DECOMPRESS_QUERY, SRLE_FOURCC,
)
from drvtape.schema.memory.catalog import message_memory
from drvtape.schema.memory.classes import DriverClass, fourcc
from drvtape.schema.memory.structs import ICDECOMPRESS
from drvtape.schema.messages import DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_FREE, DRV_LOAD, DRV_OPEN
from drvtape.schema.payloads import IcOpen

HDRVR = 0x77
WIDTH, HEIGHT = 16, 8


def frame(value: int, step: int = 0) -> bytes:
    """Run-length pairs for one picture: rows of `value`, with every other run `value + step`."""
    return b"".join(bytes([WIDTH, (value + step * (row % 2)) & 0xFF]) for row in range(HEIGHT))


def decoded(value: int, step: int = 0) -> bytes:
    return b"".join(bytes([(value + step * (row % 2)) & 0xFF]) * WIDTH for row in range(HEIGHT))


def _call(proc, driver_id, msg, contents, lparam2=0):
    l1, l2 = build_call_memory(message_memory(DriverClass.VFW, msg), "x64", contents, (0, lparam2))
    return proc(driver_id, HDRVR, msg, l1, l2), l1


def decode(proc, frames: list[bytes], *, end_decoding: bool = True) -> list[bytes]:
    """Decode frames; the pictures the codec wrote. The application frees its buffers after
    ICM_DECOMPRESS_END, then closes the codec (a fault there propagates)."""
    proc(0, HDRVR, DRV_LOAD, 0, 0)
    proc(0, HDRVR, DRV_ENABLE, 0, 0)
    opened = IcOpen(dwSize=56, fccType=fourcc("vidc"), fccHandler=SRLE_FOURCC)
    instance = proc(0, HDRVR, DRV_OPEN, "vidc.SRLE", opened)
    source = {"biSize": 40, "biWidth": WIDTH, "biHeight": HEIGHT, "biPlanes": 1, "biBitCount": 8,
              "biCompression": SRLE_FOURCC}
    target = {**source, "biCompression": BI_RGB, "biSizeImage": WIDTH * HEIGHT}
    fmt_in, fmt_out = build_call_memory(message_memory(DriverClass.VFW, ICM_DECOMPRESS_QUERY), "x64",
                                        {"lparam1": source, "lparam2": target})
    assert proc(instance, HDRVR, ICM_DECOMPRESS_QUERY, fmt_in, fmt_out) == 0
    assert _call(proc, instance, ICM_DECOMPRESS_BEGIN, {"lparam1": fmt_in, "lparam2": fmt_out})[0] == 0
    picture = bytes(WIDTH * HEIGHT)
    output = None
    pictures = []
    for data in frames:
        fmt_in["biSizeImage"] = len(data)
        contents = {"lparam1": {}, "lparam1.lpbiInput": fmt_in, "lparam1.lpInput": data,
                    "lparam1.lpbiOutput": fmt_out, "lparam1.lpOutput": output or picture}
        result, params = _call(proc, instance, ICM_DECOMPRESS, contents, ICDECOMPRESS.size("x64"))
        assert result == 0
        output = params.child("lpOutput")  # the application's one frame buffer, reused
        pictures.append(bytes(output.data))
    if end_decoding:
        proc(instance, HDRVR, ICM_DECOMPRESS_END, 0, 0)
        if output is not None:
            output.free()
    proc(instance, HDRVR, DRV_CLOSE, 0, 0)
    proc(instance, HDRVR, DRV_DISABLE, 0, 0)
    proc(instance, HDRVR, DRV_FREE, 0, 0)
    return pictures
