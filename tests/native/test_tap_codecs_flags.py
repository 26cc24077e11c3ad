"""The tap's memory capture at its limits (issue 10 item 3): a block longer than
DRVTAP_MEMORY_CAP is kept cut and marked truncated, never silently; a pointer to memory that
is not readable (a no-access page, a size beyond the catalog's cap) is marked unreadable with
nothing read, and the tap and the application carry on."""
from drvtape.dllhost import wine
from drvtape.formats.tape_memory import PHASE_CALL, PHASE_RETURN
from drvtape.recorder.ingest import parse_tape
from drvtape.schema.events import EndReason
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.memory.classes import DriverClass

from tests.native.codec_sessions import record_codec, run_client, taped_calls
from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)

CAP = 1000


def by_name(calls, name):
    return [c for c in calls if c.driver_id and message_name(c.msg, DriverClass.VFW) == name]


def test_blocks_over_the_memory_cap_are_cut_there_and_marked_truncated(own_prefix, codec_client, codec_media,  # noqa: F811
                                                                       wine_codecs, tmp_path):
    runs = record_codec(codec_client, wine_codecs, "iccvid.dll", codec_media, tmp_path, DRVTAP_MEMORY_CAP=str(CAP))
    for run in runs:
        assert run.tapped == run.plain  # the application sees no difference
    decode = next(r for r in runs if r.args[0] == "icdecompress")
    frames = [line.split() for line in decode.plain.splitlines() if line.startswith("frame ")]
    calls = by_name(taped_calls(decode.tape), "ICM_DECOMPRESS")
    assert len(calls) == len(frames) == 4
    for call, frame in zip(calls, frames):
        out = call.block("lparam1.lpOutput", PHASE_RETURN)
        assert out.size == 320 * 240 * 3 and len(out.data) == CAP and out.truncated and not out.unreadable
        frame_in = call.block("lparam1.lpInput", PHASE_CALL)
        assert frame_in.size == int(frame[3]) > CAP and len(frame_in.data) == CAP and frame_in.truncated
        whole = call.block("lparam1", PHASE_CALL)
        assert whole.size == len(whole.data) == 48 and not whole.truncated  # ICDECOMPRESS, x64
    parse_tape(decode.tape.read_bytes())  # the reader takes truncated blocks as they are


def test_unreadable_pointers_are_flagged_and_the_tap_carries_on(host, tap, driver, codec_client, tmp_path):
    tape = tmp_path / "bad.drvtape"
    out = run_client(codec_client, ("badpointer", wine.windows_path(str(tap))), tmp_path,
                     DRVTAP_REAL=wine.windows_path(driver("codec_stub")), DRVTAP_TAPE=wine.windows_path(str(tape)))
    assert out.splitlines() == ["decompress 0", "query 0", "close 1"]
    calls = taped_calls(tape)
    (decompress,) = by_name(calls, "ICM_DECOMPRESS")
    whole = decompress.block("lparam1", PHASE_CALL)
    assert len(whole.data) == 48 and not (whole.truncated or whole.unreadable)
    no_access = decompress.block("lparam1.lpbiInput", PHASE_CALL)
    assert no_access.unreadable and no_access.data == b""
    assert no_access.address == int.from_bytes(whole.data[8:16], "little")  # ICDECOMPRESS.lpbiInput, x64
    header = decompress.block("lparam1.lpbiOutput", PHASE_CALL)
    assert int.from_bytes(header.data[20:24], "little") == 0x7FFFFFFF  # biSizeImage: 2 GiB
    for phase in (PHASE_CALL, PHASE_RETURN):
        huge = decompress.block("lparam1.lpOutput", phase)
        assert huge.unreadable and huge.size == 0x7FFFFFFF and huge.data == b""  # beyond the catalog's cap
    (query,) = by_name(calls, "ICM_DECOMPRESS_QUERY")
    assert query.block("lparam1", PHASE_CALL).unreadable
    (session,) = parse_tape(tape.read_bytes()).sessions
    assert session.end.reason == EndReason.CLOSED
