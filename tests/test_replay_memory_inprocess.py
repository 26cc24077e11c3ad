"""In-process replay compares what the driver wrote too: a sim:vfw-decoder session (the
catalog's ICM_DECOMPRESS, frames as MemoryRefs) reproduces with every output compared, and a
copy with one byte of a recorded picture changed is not, naming the picture and the byte."""
from __future__ import annotations

from drvtape.recorder import Recorder
from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.sim.codec import ICM_DECOMPRESS, VfwDecoder
from drvtape.runtime.targets import parse_target
from drvtape.schema.outcome import OutcomeKind
from drvtape.store import Store

from codec_app import decode, frame
from memory_sessions import with_output_byte_changed


def recorded_session(tmp_path):
    db = str(tmp_path / "c.db")
    with Recorder(db, driver="vidc.SRLE", target="sim:vfw-decoder") as rec:
        decode(rec.wrap(VfwDecoder()), [frame(1), frame(2), frame(9, 3)])
    with Store.open(db, read_only=True) as store:
        return load_recording(store, "last")


def test_a_sim_codec_session_reproduces_with_every_output_compared(tmp_path):
    recording = recorded_session(tmp_path)
    outputs = [b for c in recording.calls for b in c.memory_out]
    report = replay_recording(recording, parse_target("sim:vfw-decoder"), repeat=3)
    assert report.reproduced_runs == 3
    assert {(m.outputs, m.bytes) for m in report.memory} == {(len(outputs), sum(b.captured for b in outputs))}
    assert report.memory[0].outputs >= 3  # a picture per frame at least


def test_one_changed_byte_of_a_recorded_picture_is_not_reproduced(tmp_path):
    recording = recorded_session(tmp_path)
    third = [c.seq for c in recording.calls if c.msg == ICM_DECOMPRESS][2]
    changed = with_output_byte_changed(recording, third, "lparam1.lpOutput", 5)
    report = replay_recording(changed, parse_target("sim:vfw-decoder"))
    assert not report.reproduced
    assert (report.runs[0].kind, report.runs[0].seq) == (OutcomeKind.DIVERGED, third)
    assert report.to_json()["first_memory_difference"].startswith(
        f"seq {third} ICM_DECOMPRESS: lparam1.lpOutput differs from byte 5 (recorded 0x")
