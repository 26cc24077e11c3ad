"""The hook records the memory behind in-process drivers' pointer parameters (MemoryRefs),
and a recorded sim codec session rebuilds from its blocks: sim:vfw-decoder decodes frames,
sim:vfw-kept-frame keeps the application's frame buffer past ICM_DECOMPRESS_END and faults
at DRV_CLOSE, in the recording and again when the recording's memory is rebuilt."""

import json
import uuid

import pytest

from drvtape.recorder import Recorder
from drvtape.replay import load_recording
from drvtape.runtime.faults import EXCEPTION_ACCESS_VIOLATION, DriverFault, fault_of
from drvtape.runtime.memory import CallMemoryRebuilder, MemoryRef, build_call_memory, capture_blocks, rebuild_call_memory
from drvtape.runtime.pointers import python_arg
from drvtape.runtime.sim.codec import ICM_DECOMPRESS, KeptFrameDecoder, VfwDecoder
from drvtape.schema.memory.captured import Phase, block
from drvtape.schema.memory.catalog import message_memory, message_name
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.messages import DRV_CLOSE
from drvtape.schema.outcome import OutcomeKind
from drvtape.store import Store

import codec_app
from codec_app import decode, decoded, frame

FRAMES = [frame(1), frame(1), frame(1), frame(9, 3)]  # three identical frames, then another


def record(db, driver, frames=FRAMES, **options):
    with Recorder(db, driver="vidc.SRLE", target=f"sim:{driver.name}", **options) as rec:
        return decode(rec.wrap(driver), frames)


def test_a_decoding_session_is_recorded_with_its_memory(tmp_path):
    db = str(tmp_path / "c.db")
    pictures = record(db, VfwDecoder())
    assert pictures == [decoded(1)] * 3 + [decoded(9, 3)]
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
        assert store.verify(store.resolve("last").pk) == []
    decompress = [c for c in recording.calls if c.msg == ICM_DECOMPRESS]
    assert [message_name(c.msg, c.cls) for c in decompress] == ["ICM_DECOMPRESS"] * 4
    assert all(c.cls is DriverClass.VFW for c in decompress)
    first = decompress[0]
    assert [b.path for b in first.memory_in] == ["lparam1", "lparam1.lpbiInput", "lparam1.lpInput",
                                                 "lparam1.lpbiOutput", "lparam1.lpOutput"]
    assert [b.path for b in first.memory_out] == ["lparam1.lpOutput"]
    assert recording.blob(first.memory_in[2].sha256) == frame(1)
    assert [recording.blob(c.memory_out[0].sha256) for c in decompress] == pictures
    assert len({c.memory_in[4].address for c in decompress}) == 1  # one frame buffer, reused
    assert first.lparam1 == first.memory_in[0].address  # the block's identity, never a real address


def test_identical_frames_and_pictures_are_stored_once(tmp_path):
    db = str(tmp_path / "c.db")
    record(db, VfwDecoder())
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
        with store.reading() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM blobs").scalar()
    blocks = [b for c in recording.calls for b in (*c.memory_in, *c.memory_out)]
    assert len(blocks) == 2 * 2 + 4 * 6  # QUERY and BEGIN: two formats; each ICM_DECOMPRESS: 5 in, 1 out
    assert stored == len({b.sha256 for b in blocks}) == 12  # the formats, 2 frames, 3 pictures ...: once each


def test_a_block_over_the_cap_is_marked_truncated(tmp_path):
    db = str(tmp_path / "c.db")
    record(db, VfwDecoder(), memory_cap=64)
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
    call = next(c for c in recording.calls if c.msg == ICM_DECOMPRESS)
    out = call.memory_out[0]
    assert out.truncated and (out.size, out.captured) == (codec_app.WIDTH * codec_app.HEIGHT, 64)


def test_the_kept_frame_bug_faults_at_drv_close_in_the_recording(tmp_path):
    db = str(tmp_path / "k.db")
    with pytest.raises(DriverFault) as fault:
        record(db, KeptFrameDecoder())
    assert fault.value.code == EXCEPTION_ACCESS_VIOLATION and "lpOutput" in fault.value.description
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
    assert recording.outcome.kind is OutcomeKind.FAULT and recording.outcome.msg == DRV_CLOSE


def test_a_session_that_never_decoded_closes_cleanly_with_the_bug():
    assert decode(KeptFrameDecoder(), []) == []


def replay_with_rebuilt_memory(recording, driver):
    """Send each recorded call to driver with its memory rebuilt from the recording; the
    fault, if any, and (seq, path, recorded bytes, replayed bytes) of each output compared."""
    rebuilder = CallMemoryRebuilder(recording)
    opened, compared = {}, []
    for call in recording.calls:
        rebuilt = rebuilder.call_memory(call)
        args = ((rebuilt.lparam1, rebuilt.lparam2) if rebuilt else
                (python_arg(call.lparam1, call.payload and call.payload.lparam1),
                 python_arg(call.lparam2, call.payload and call.payload.lparam2)))
        try:
            result = driver(opened.get(call.driver_id, call.driver_id), call.hdrvr, call.msg, *args)
        except DriverFault as exc:
            return fault_of(exc), call, compared
        if call.result and call.msg == 3:  # DRV_OPEN: this run's id
            opened[call.result] = result
        for b in call.memory_out:
            compared.append((call.seq, b.path, recording.blob(b.sha256), bytes(rebuilt.outputs[b.path].data)))
        rebuilder.release_after(call)
    return None, None, compared


def test_the_rebuilt_memory_reproduces_the_kept_frame_fault_and_every_output(tmp_path):
    db = str(tmp_path / "k.db")
    with pytest.raises(DriverFault):
        record(db, KeptFrameDecoder())
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
    fault, at, compared = replay_with_rebuilt_memory(recording, KeptFrameDecoder())
    assert fault is not None and fault.code == EXCEPTION_ACCESS_VIOLATION and at.seq == recording.outcome.seq
    assert len(compared) == 4 and all(recorded == replayed for _, _, recorded, replayed in compared)
    fixed, _, again = replay_with_rebuilt_memory(recording, VfwDecoder())  # the fixed build
    assert fixed is None and again == compared


def test_a_changed_decoder_shows_in_the_first_output_it_writes_differently(tmp_path):
    db = str(tmp_path / "c.db")
    record(db, VfwDecoder())
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")

    class OffByOne(VfwDecoder):
        def on_decompress(self, driver_id, params, size):
            result = super().on_decompress(driver_id, params, size)
            params.child("lpOutput").data[5] ^= 1
            return result

    _, _, compared = replay_with_rebuilt_memory(recording, OffByOne())
    first = next((seq, path) for seq, path, recorded, replayed in compared if recorded != replayed)
    assert first == (next(c.seq for c in recording.calls if c.msg == ICM_DECOMPRESS), "lparam1.lpOutput")


def test_one_call_rebuilds_on_its_own(tmp_path):
    db = str(tmp_path / "c.db")
    record(db, VfwDecoder())
    with Store.open(db, read_only=True) as store:
        recording = load_recording(store, "last")
    call = next(c for c in recording.calls if c.msg == ICM_DECOMPRESS)
    lparam1, lparam2, outputs = rebuild_call_memory(call, recording)
    assert lparam2 == call.lparam2  # sizeof(ICDECOMPRESS): a value
    assert bytes(lparam1.child("lpInput").data) == frame(1)
    assert lparam1.child("lpbiInput")["biWidth"] == codec_app.WIDTH
    assert list(outputs) == ["lparam1.lpOutput"] and outputs["lparam1.lpOutput"] is lparam1.child("lpOutput")
    assert lparam1.address != call.memory_in[0].address  # fresh memory, never the recorded address


@pytest.mark.parametrize("durability", ["batched", "process", "machine"])
def test_every_durability_stores_the_bytes_with_or_before_the_events_naming_them(tmp_path, durability):
    db = str(tmp_path / "d.db")
    record(db, VfwDecoder(), durability=durability, batch_size=3)
    with Store.open(db, read_only=True) as store:
        assert store.verify(store.resolve("last").pk) == []
        recording = load_recording(store, "last")
    outputs = [recording.blob(c.memory_out[0].sha256) for c in recording.calls if c.msg == ICM_DECOMPRESS]
    assert outputs == [decoded(1)] * 3 + [decoded(9, 3)]


def test_in_process_replay_rebuilds_the_memory_and_reproduces_the_kept_frame_fault(tmp_path, drvtape):
    db = str(tmp_path / "k.db")
    with pytest.raises(DriverFault):
        record(db, KeptFrameDecoder())
    done = drvtape("--db", db, "replay", "last", "--target", "sim:vfw-kept-frame", "--repeat", "3", "--json")
    assert done.code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["reproduced"] and report["reproduced_runs"] == 3
    picture = codec_app.WIDTH * codec_app.HEIGHT
    assert (report["outputs_compared"], report["bytes_compared"]) == (4, 4 * picture)
    fixed = drvtape("--db", db, "replay", "last", "--target", "sim:vfw-decoder")
    assert fixed.code == 1  # the fixed decoder closes cleanly: the recorded fault is not reproduced


def test_a_freed_ref_or_one_over_the_catalogs_cap_is_an_unreadable_block():
    node = message_memory(DriverClass.VFW, ICM_DECOMPRESS).node("lparam1.lpInput")
    freed, huge = MemoryRef(node, "x64", b"abc"), MemoryRef(node, "x64", b"")
    freed.free()
    huge.data.extend(bytes(node.size.cap + 1))
    blocks, blobs = capture_blocks((freed, huge), Phase.CALL)
    assert [(b.unreadable, b.size, b.captured) for b in blocks] == [(True, 0, 0), (True, node.size.cap + 1, 0)]


def test_one_changed_byte_of_a_recorded_output_is_named_by_in_process_replay(tmp_path, drvtape):
    db = str(tmp_path / "c.db")
    record(db, VfwDecoder())
    with Store.open(db) as store:
        stored = store.resolve("last")
        events = store.events(stored.pk)
        at = next(i for i, ev in enumerate(events) if ev.kind == "return" and ev.memory)
        out = events[at].memory[0]
        changed = bytearray(load_recording(store, "last").blob(out.sha256))
        changed[1204 % len(changed)] ^= 0x3A
        altered = block(out.path, out.phase, out.address, out.size, bytes(changed))
        events[at] = events[at].model_copy(update={"memory": (altered,)})
        copy = stored.header.model_copy(update={"id": uuid.uuid4()})
        store.import_sessions([(copy, events)], {altered.sha256: bytes(changed)})
    done = drvtape("--db", db, "replay", str(copy.id), "--target", "sim:vfw-decoder", "--json")
    assert done.code == 1, done.stderr
    report = json.loads(done.stdout)
    assert not report["reproduced"]
    offset = 1204 % len(changed)
    assert report["first_memory_difference"] == (
        f"seq {events[at].call_seq} ICM_DECOMPRESS: lparam1.lpOutput differs from byte {offset} "
        f"(recorded 0x{changed[offset]:02X}, replayed 0x{changed[offset] ^ 0x3A:02X})")


def test_a_ref_made_for_one_call_is_recorded_at_its_place_in_the_next():
    entry = message_memory(DriverClass.VFW, ICM_DECOMPRESS)
    lparam1, _ = build_call_memory(entry, "x64", {"lparam1": {}, "lparam1.lpInput": frame(1)})
    nested = lparam1.child("lpInput")
    blocks, _ = capture_blocks((0, nested), Phase.CALL)  # passed on its own, as lParam2
    assert [b.path for b in blocks] == ["lparam2"]


def test_events_json_names_the_fields_of_captured_memory(tmp_path, drvtape):
    db = str(tmp_path / "e.db")
    record(db, VfwDecoder())
    done = drvtape("--db", db, "events", "last", "--msg", "ICM_DECOMPRESS", "--kind", "call", "--json")
    assert done.code == 0, done.stderr
    first = json.loads(done.stdout)[0]
    assert first["msg_name"] == "ICM_DECOMPRESS" and first["class"] == "vfw"
    by_path = {b["path"]: b for b in first["memory"]}
    header = by_path["lparam1.lpbiInput"]["fields"]
    assert (header["biWidth"], header["biHeight"], header["biSizeImage"]) == (
        codec_app.WIDTH, codec_app.HEIGHT, len(FRAMES[0]))
    assert "fields" not in by_path["lparam1.lpInput"]  # raw frame bytes have no layout
