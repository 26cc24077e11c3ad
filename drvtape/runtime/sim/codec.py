"""Simulated VfW decoders that use the memory model (drvtape.runtime.memory): they receive
MemoryRefs for ICM_* pointer parameters, read the formats and frames, and write the
decoded frame, so recording, ingest-free storage and replay of codec memory work without Wine.

The format: input frames are run-length pairs (count, value) of an 8-bit picture,
compression SRLE_FOURCC; the output is that picture, 8-bit BI_RGB, of the same size.

sim:vfw-decoder is correct. sim:vfw-kept-frame has a shutdown bug: for delta frames it keeps
the last output frame buffer, the application's memory, past ICM_DECOMPRESS_END, and clears
it at DRV_CLOSE, after the application freed it: an access violation at shutdown only
(a session that closes without having decoded is fine).
"""

from drvtape.runtime.memory import MemoryRef
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.schema.memory.classes import fourcc
from drvtape.schema.memory.codes import ICM_USER

ICM_DECOMPRESS_QUERY, ICM_DECOMPRESS_BEGIN, ICM_DECOMPRESS, ICM_DECOMPRESS_END = (
    ICM_USER + 11, ICM_USER + 12, ICM_USER + 13, ICM_USER + 14)
ICERR_OK, ICERR_UNSUPPORTED, ICERR_BADFORMAT = 0, -1, -2  # vfw.h
SRLE_FOURCC = fourcc("SRLE")
BI_RGB = 0


def formats_match(source: MemoryRef, target: MemoryRef | int) -> bool:
    """Whether the decoder takes source (a BITMAPINFOHEADER) and decodes it to target (or to
    any output, when target is NULL)."""
    if source["biCompression"] != SRLE_FOURCC or source["biBitCount"] != 8:
        return False
    if not isinstance(target, MemoryRef):
        return True
    return (target["biCompression"] == BI_RGB and target["biBitCount"] == 8
            and target["biWidth"] == source["biWidth"] and abs(target["biHeight"]) == abs(source["biHeight"]))


def decode_runs(runs: bytes | bytearray, out: bytearray) -> None:
    """Expand (count, value) pairs into out; what the runs do not cover keeps the previous frame."""
    at = 0
    for i in range(0, len(runs) - 1, 2):
        count, value = runs[i], runs[i + 1]
        out[at:at + count] = bytes([value]) * min(count, len(out) - at)
        at += count


class VfwDecoder(ReferenceDriver):
    name = "vfw-decoder"

    def __init__(self, coordinator=None):
        super().__init__(coordinator)
        self.decoding: set[int] = set()  # instances between ICM_DECOMPRESS_BEGIN and _END
        self.previous: dict[int, MemoryRef] = {}  # instance -> the last output frame (delta frames)
        self._messages = {ICM_DECOMPRESS_QUERY: self.on_decompress_query, ICM_DECOMPRESS_BEGIN: self.on_decompress_begin,
                          ICM_DECOMPRESS: self.on_decompress, ICM_DECOMPRESS_END: self.on_decompress_end}

    def __call__(self, driver_id, hdrvr, msg, lparam1, lparam2):
        handler = self._messages.get(msg) if driver_id in self.instances else None
        if handler is None:
            return super().__call__(driver_id, hdrvr, msg, lparam1, lparam2)
        return handler(driver_id, lparam1, lparam2)

    def on_decompress_query(self, driver_id, source, target):
        return ICERR_OK if isinstance(source, MemoryRef) and formats_match(source, target) else ICERR_BADFORMAT

    def on_decompress_begin(self, driver_id, source, target):
        if self.on_decompress_query(driver_id, source, target) != ICERR_OK:
            return ICERR_BADFORMAT
        self.decoding.add(driver_id)
        return ICERR_OK

    def on_decompress(self, driver_id, params, _size):
        if driver_id not in self.decoding or not isinstance(params, MemoryRef):
            return ICERR_UNSUPPORTED
        source, frame = params.child("lpbiInput"), params.child("lpInput")
        output = params.child("lpOutput")
        if source is None or frame is None or output is None:
            return ICERR_BADFORMAT
        decode_runs(frame.data[:source["biSizeImage"]], output.data)
        self.previous[driver_id] = output
        return ICERR_OK

    def on_decompress_end(self, driver_id, _lparam1, _lparam2):
        self.decoding.discard(driver_id)
        self.previous.pop(driver_id, None)
        return ICERR_OK

    def on_close(self, driver_id, hdrvr, lparam1, lparam2):
        kept = self.previous.pop(driver_id, None)
        if kept is not None:
            kept.data[:] = bytes(len(kept.data))  # forget the delta state
        self.decoding.discard(driver_id)
        return super().on_close(driver_id, hdrvr, lparam1, lparam2)


class KeptFrameDecoder(VfwDecoder):
    """The bug: ICM_DECOMPRESS_END forgets that decoding ended but keeps the frame buffer."""

    name = "vfw-kept-frame"

    def on_decompress_end(self, driver_id, _lparam1, _lparam2):
        self.decoding.discard(driver_id)
        return ICERR_OK
