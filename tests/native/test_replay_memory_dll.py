"""Replay with memory against a real DLL (memcodec.c under drvhost): input structs rebuilt at
fresh addresses, every output block compared, the first difference named, and what cannot
be rebuilt faithfully refused before anything runs."""
from __future__ import annotations

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay import replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema.outcome import OutcomeKind

from memory_sessions import memcodec_lookup, memcodec_session, with_output_byte_changed, without_memory


@pytest.fixture
def memcodec(driver):
    return parse_target(f"dll:{driver('memcodec')}")


def test_a_session_with_memory_reproduces_with_every_output_compared(memcodec):
    report = replay_recording(memcodec_session(), memcodec, repeat=5, lookup=memcodec_lookup())
    assert report.reproduced_runs == 5
    # two decodes (a 300-byte frame and a 16-byte FAKEINFO each), the stream after open
    # (24 bytes less the 8 of the driver's own dwDriver)
    assert {(m.outputs, m.bytes) for m in report.memory} == {(5, 2 * (300 + 16) + 16)}
    assert report.to_json()["outputs_compared"] == 5
    assert report.unknown_calls == 0


def test_one_changed_output_byte_is_not_reproduced_and_names_the_block_and_offset(memcodec):
    changed = with_output_byte_changed(memcodec_session(), 5, "lparam1.pbDst", 123)
    report = replay_recording(changed, memcodec, lookup=memcodec_lookup())
    assert not report.reproduced
    outcome = report.runs[0]
    assert (outcome.kind, outcome.seq) == (OutcomeKind.DIVERGED, 5)
    text = report.to_json()["first_memory_difference"]
    assert text.startswith("seq 5 FAKE_DECODE: lparam1.pbDst differs from byte 123 (recorded 0x")
    assert report.memory[0].outputs == 2 + 1  # the first decode's two, then the frame that differs


def test_a_pointer_message_without_memory_is_refused_before_anything_runs(memcodec):
    session = without_memory(memcodec_session(), 5)
    with pytest.raises(DrvtapeError, match=r"^cannot replay faithfully: seq 5 FAKE_DECODE: lparam1 is a pointer "
                                           r"and the recording has no memory for it$"):
        replay_recording(session, memcodec, lookup=memcodec_lookup())
    report = replay_recording(session, memcodec, lookup=memcodec_lookup(), until_missing_memory=True)
    assert report.reproduced
    assert [c.seq for c in report.recording.calls] == [1, 3]
    assert report.to_json()["stopped_before"].startswith("seq 5 FAKE_DECODE")


def test_a_driver_owned_field_keeps_this_runs_value(memcodec):
    """The driver stores its own pointer in dwDriver at stream open and reads it at close:
    replay works because the field keeps this run's value; written from the recording before
    the close, the driver reads the recording's pointer and faults."""
    assert replay_recording(memcodec_session(), memcodec, lookup=memcodec_lookup()).reproduced
    wrong = replay_recording(memcodec_session(), memcodec, lookup=memcodec_lookup(owned_at_close=False))
    assert (wrong.runs[0].kind, wrong.runs[0].seq) == (OutcomeKind.FAULT, 9)
