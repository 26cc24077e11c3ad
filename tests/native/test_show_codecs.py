"""`drvtape show --msg` on sessions recorded through the tap in front of Wine's own codecs
(under Wine 8.0, the real msacm32/msvfw32): the struct fields a codec maintainer checks are
the values the client saw. msadp32's ACMDM_STREAM_CONVERT returns the ACMDRVSTREAMHEADER
with the cbSrcLengthUsed/cbDstLengthUsed acmStreamConvert handed the client; msrle32's
ICM_DECOMPRESS reads the BITMAPINFOHEADERs of the round trip's 64x48 8-bit frames."""

import json
import re

from tests.native.codec_sessions import drvtape, ingested_sessions, record_codec
from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)


def shown_calls(db, sessions: list[dict], name: str) -> list[dict]:
    """`show --msg name --json`'s calls over the sessions that have the message."""
    calls = []
    for session in sessions:
        done = drvtape(db, "show", session["session"], "--msg", name, "--json")
        assert done.returncode in (0, 2), done.stderr  # 2: the session has no such call
        if done.returncode == 0:
            calls += json.loads(done.stdout)["calls"]
    assert calls, name
    return calls


def fields_at(blocks: list[dict], path: str) -> dict:
    (found,) = [b for b in blocks if b["path"] == path]
    return found["fields"]


def test_acm_stream_convert_shows_the_lengths_the_client_got(own_prefix, codec_client, codec_media,  # noqa: F811
                                                           wine_codecs, tmp_path):
    run = record_codec(codec_client, wine_codecs, "msadp32.acm", codec_media, tmp_path)[0]
    assert run.args[0] == "acmconvert"
    db = tmp_path / "acm.db"
    calls = shown_calls(db, ingested_sessions(db, run), "ACMDM_STREAM_CONVERT")
    buffers = re.findall(r"^buffer \d+ src (\d+) used (\d+) dst (\d+) crc \w+$", run.plain, re.M)
    assert len(calls) == len(buffers) >= 1
    for call, (src, used, dst) in zip(calls, buffers):
        assert call["call"]["class"] == "acm" and call["return"]["result"] == 0
        given = fields_at(call["call"]["memory"], "lparam2")
        returned = fields_at(call["return"]["memory"], "lparam2")
        assert given["cbSrcLength"] == int(src)
        assert (returned["cbSrcLengthUsed"], returned["cbDstLengthUsed"]) == (int(used), int(dst))
        (dst_block,) = [b for b in call["return"]["memory"] if b["path"] == "lparam2.pbDst"]
        assert dst_block["bytes"]["length"] == dst_block["captured"] == given["cbDstLength"]


def test_icm_decompress_shows_the_frame_formats(own_prefix, codec_client, codec_media, wine_codecs,  # noqa: F811
                                                tmp_path):
    run = record_codec(codec_client, wine_codecs, "msrle32.dll", codec_media, tmp_path)[0]
    assert run.args == ("roundtrip", "mrle", "64", "48", "3")
    db = tmp_path / "rle.db"
    calls = shown_calls(db, ingested_sessions(db, run), "ICM_DECOMPRESS")
    packed = [int(size) for size in re.findall(r"^frame \d+ raw crc \w+ packed (\d+) ", run.plain, re.M)]
    assert len(calls) == len(packed) == 3
    for call, size in zip(calls, packed):
        source = fields_at(call["call"]["memory"], "lparam1.lpbiInput")
        target = fields_at(call["call"]["memory"], "lparam1.lpbiOutput")
        assert (source["biWidth"], source["biHeight"], source["biCompression"], source["biSizeImage"]) == \
            (64, 48, 1, size)  # BI_RLE8 (wingdi.h)
        assert (target["biWidth"], target["biHeight"], target["biBitCount"], target["biCompression"]) == \
            (64, 48, 8, 0)  # BI_RGB
        (frame,) = [b for b in call["return"]["memory"] if b["path"] == "lparam1.lpOutput"]
        assert frame["size"] == 64 * 48 and frame["bytes"]["length"] == 64 * 48
