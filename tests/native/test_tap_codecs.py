"""Issue 10 through the tap, under Wine 8.0 with Wine's own codecs and the real Windows stack
(avifil32, msvfw32, msacm32) on media made by Debian's ffmpeg:
- the codec client prints the same frame and audio checksums with and without the tap in
  front of each codec (installed on the codec's alias, in a prefix of these tests' own);
- the tapes hold the memory behind every ICM_*/ACMDM_* message the catalog describes, at
  the catalog's paths, phases and sizes: the frame ICM_DECOMPRESS wrote is lpOutput's return
  block, of biSizeImage bytes, with the client's CRC; ACMDM_STREAM_CONVERT's pbDst is the
  buffer acmStreamSize sized, holding what the client got."""
import re
import zlib

import pytest

from drvtape.formats.tape_memory import PHASE_CALL, PHASE_RETURN
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.spec import Direction

from tests.native.codec_sessions import CODECS, TapedCall, record_codec, taped_calls
from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)


@pytest.fixture(scope="module")
def recorded(own_prefix, codec_client, codec_media, wine_codecs, tmp_path_factory):  # noqa: F811
    """recorded(real) -> the codec's ClientRuns, each recorded once per module."""
    done: dict[str, list] = {}

    def record(real: str):
        if real not in done:
            done[real] = record_codec(codec_client, wine_codecs, real, codec_media, tmp_path_factory.mktemp(real))
        return done[real]

    return record


def codec_class(real: str) -> DriverClass:
    return DriverClass.VFW if real.endswith(".dll") else DriverClass.ACM


def named(calls: list[TapedCall], cls: DriverClass, name: str) -> list[TapedCall]:
    return [c for c in calls if c.driver_id and message_name(c.msg, cls) == name]


def crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


@pytest.mark.parametrize("real", CODECS)
def test_the_client_prints_the_same_with_the_tap_in_front(recorded, real):
    for run in recorded(real):
        assert run.tapped == run.plain, run.args
        assert re.search(r"^(frame|buffer|driver) ", run.plain, re.M), (run.args, run.plain)
        assert "failed" not in run.plain


@pytest.mark.parametrize("real", CODECS)
def test_every_pointer_the_catalog_describes_is_captured_in_its_phases(recorded, real):
    cls = codec_class(real)
    checked = 0
    for run in recorded(real):
        for call in taped_calls(run.tape):
            entry = message_memory(cls, call.msg) if call.driver_id else None
            for node in entry.nodes if entry else ():
                if node.parent is not None or not (call.lparam1, call.lparam2)[node.param - 1]:
                    continue
                phases = {m.phase for m in call.memory if m.path == node.path}
                want = {phase for phase, direction in ((PHASE_CALL, Direction.IN), (PHASE_RETURN, Direction.OUT))
                        if node.direction & direction}
                assert phases == want, (run.args, entry.name, node.path)
                checked += 1
            assert not any(m.truncated or m.unreadable for m in call.memory), (run.args, call)
    assert checked


def decode_frames(run, calls: list[TapedCall]) -> None:
    """icdecompress: frame i's input is lpInput at call, its output lpOutput at return."""
    size = int(re.search(r"^format 0 .* size (\d+)$", run.plain, re.M).group(1))
    frames = re.findall(r"^frame (\d+) in (\d+) crc (\w+)$", run.plain, re.M)
    decompress = named(calls, DriverClass.VFW, "ICM_DECOMPRESS")
    assert len(decompress) == len(frames) == 4
    for call, (_, in_size, frame_crc) in zip(decompress, frames):
        assert call.block("lparam1.lpInput", PHASE_CALL).size == int(in_size)
        out = call.block("lparam1.lpOutput", PHASE_RETURN)
        assert out.size == size == len(out.data) and crc(out.data) == frame_crc


def avi_frames(run, calls: list[TapedCall]) -> None:
    """avi: AVIStreamGetFrame decodes with ICM_DECOMPRESS into frames of the size the printed
    header says (under Wine 8.0 from the last key frame each time: 1 + 2 + 3 + 4 decodes for
    4 frames of which the first is a key frame)."""
    frames = set(re.findall(r"^frame \d+ (\d+)x(\d+) (\d+)-bit", run.plain, re.M))
    ((w, h, bits),) = frames
    decompress = named(calls, DriverClass.VFW, "ICM_DECOMPRESS")
    assert len(decompress) >= 4
    for call in decompress:
        assert call.block("lparam1.lpOutput", PHASE_RETURN).size == (int(w) * int(bits) + 31) // 32 * 4 * int(h)


def round_trip(run, calls: list[TapedCall]) -> None:
    """roundtrip: ICM_COMPRESS wrote the packed frame (lpbiOutput's biSizeImage bytes, as the
    driver set it), ICM_DECOMPRESS the frame back."""
    packed = re.findall(r"^frame \d+ raw crc (\w+) packed (\d+) crc (\w+)", run.plain, re.M)
    compress = named(calls, DriverClass.VFW, "ICM_COMPRESS")
    decompress = named(calls, DriverClass.VFW, "ICM_DECOMPRESS")
    assert len(compress) == len(decompress) == len(packed) == 3
    for comp, decomp, (raw_crc, size, packed_crc) in zip(compress, decompress, packed):
        out = comp.block("lparam1.lpOutput", PHASE_RETURN)
        assert out.size == int(size) and crc(out.data) == packed_crc
        assert crc(comp.block("lparam1.lpInput", PHASE_CALL).data) == raw_crc
        assert crc(decomp.block("lparam1.lpOutput", PHASE_RETURN).data) == raw_crc


def acm_convert(run, calls: list[TapedCall]) -> None:
    """acmconvert: each ACMDM_STREAM_CONVERT reads cbSrcLength bytes at pbSrc and writes
    into the cbDstLength bytes at pbDst what the client then checksums."""
    dst_len = int(re.search(r"^size 0 src \d+ dst (\d+)$", run.plain, re.M).group(1))
    buffers = re.findall(r"^buffer \d+ src (\d+) used \d+ dst (\d+) crc (\w+)$", run.plain, re.M)
    convert = named(calls, DriverClass.ACM, "ACMDM_STREAM_CONVERT")
    assert len(convert) == len(buffers) >= 1
    for call, (src, used, buffer_crc) in zip(convert, buffers):
        assert call.block("lparam2.pbSrc", PHASE_CALL).size == int(src)
        out = call.block("lparam2.pbDst", PHASE_RETURN)
        assert out.size == dst_len and crc(out.data[:int(used)]) == buffer_crc
    assert named(calls, DriverClass.ACM, "ACMDM_STREAM_OPEN")[0].block("lparam1.pwfxSrc", PHASE_CALL).size >= 16


def acm_list(run, calls: list[TapedCall]) -> None:
    """acmlist: the details structs come back filled (cbStruct bytes), a format's pwfx with
    the cbwfx bytes the client gave."""
    details = named(calls, DriverClass.ACM, "ACMDM_FORMAT_DETAILS")
    assert details
    placed = message_memory(DriverClass.ACM, details[0].msg).node("lparam1").layout.field("cbwfx", "x64")
    for call in details:
        struct = call.block("lparam1", PHASE_RETURN).data
        cbwfx = int.from_bytes(struct[placed.offset:placed.offset + placed.size], "little")
        assert call.block("lparam1.pwfx", PHASE_RETURN).size == cbwfx
    assert named(calls, DriverClass.ACM, "ACMDM_FORMATTAG_DETAILS")


CHECKS = {"icdecompress": decode_frames, "avi": avi_frames, "roundtrip": round_trip, "acmconvert": acm_convert,
          "acmlist": acm_list}


@pytest.mark.parametrize("real", CODECS)
def test_the_blocks_hold_what_the_client_saw(recorded, real):
    for run in recorded(real):
        CHECKS[run.args[0]](run, taped_calls(run.tape))
