"""A call whose catalog entry has a pointer parameter is never sent with a recorded address:
a session recorded without its memory (an older drvtape's) is refused up front, in one line
naming the seq, message and parameter, or with --until-missing-memory replayed up to it."""
from __future__ import annotations

import uuid

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay import replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema import details
from drvtape.schema.events import EndReason, SessionHeader, utc_now
from drvtape.schema.memory.classes import fourcc
from drvtape.schema.payloads import CallPayloads, IcOpen, WideString
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.rows import call_row, end_row, return_row
from drvtape.store import opened

from cli_runner import run_cli

DRV_OPEN, DRV_CLOSE, ICM_GETINFO = 3, 4, 0x4000 + 0x1000 + 2
OPENED = 0x0000_0000_0012_3450
ICINFO_AT = 0x0000_0000_0014_F7A0  # the recording process's address: never to be sent


def icinfo_session_rows() -> list:
    """Wine's icinfo on msrle32 as an older drvtape recorded it: ICM_GETINFO with its address only."""
    open_payload = CallPayloads(lparam1=WideString(text="vidc.mrle"),
                                lparam2=IcOpen(dwSize=56, fccType=fourcc("vidc"), fccHandler=fourcc("mrle")))
    return [
        call_row(1, 0, 1, DRV_OPEN, 0, 0x10, 0, 0, 0, details.encode_call(open_payload)),
        return_row(2, 1, 1, DRV_OPEN, 0, 0x10, OPENED, 1, 1),
        call_row(3, 2, 1, ICM_GETINFO, OPENED, 0x10, ICINFO_AT, 568, 0),
        return_row(4, 3, 1, ICM_GETINFO, OPENED, 0x10, 568, 3, 1),
        call_row(5, 4, 1, DRV_CLOSE, OPENED, 0x10, 0, 0, 0),
        return_row(6, 5, 1, DRV_CLOSE, OPENED, 0x10, 1, 5, 1),
        end_row(7, 6, 1, EndReason.CLOSED),
    ]


def header() -> SessionHeader:
    return SessionHeader(id=uuid.uuid4(), driver="vidc.mrle", started_at=utc_now(), source="ingest")


REFUSAL = "seq 3 ICM_GETINFO: lparam1 is a pointer and the recording has no memory for it"


def test_an_older_session_with_icm_getinfo_and_no_memory_is_refused():
    recording = recording_from_rows(header(), icinfo_session_rows())
    with pytest.raises(DrvtapeError, match=f"^cannot replay faithfully: {REFUSAL}$"):
        replay_recording(recording, parse_target("sim:reference"))


def test_until_missing_memory_replays_the_calls_before_it_and_says_where_it_stopped():
    recording = recording_from_rows(header(), icinfo_session_rows())
    report = replay_recording(recording, parse_target("sim:reference"), until_missing_memory=True)
    assert [c.seq for c in report.recording.calls] == [1]
    assert report.stopped.text == REFUSAL
    assert report.to_json()["stopped_before"] == REFUSAL


@pytest.fixture
def stored_icinfo(tmp_path):
    db = tmp_path / "old.db"
    with opened(str(db), create=True) as store:
        session = header()
        store.store_session(session, icinfo_session_rows())
    return db, str(session.id)


def test_the_cli_refuses_in_one_line_with_exit_2(stored_icinfo):
    db, session = stored_icinfo
    code, stdout, stderr = run_cli("replay", session, "--db", db, "--target", "sim:reference")
    assert code == 2
    assert stderr.strip().splitlines() == [f"drvtape: error: cannot replay faithfully: {REFUSAL}"]
    assert stdout == ""


def test_the_cli_with_until_missing_memory_says_where_it_stopped(stored_icinfo):
    db, session = stored_icinfo
    code, stdout, _ = run_cli("replay", session, "--db", db, "--target", "sim:reference", "--until-missing-memory")
    assert code == 0
    assert f"stopped before {REFUSAL}" in stdout
    code, stdout, _ = run_cli("replay", session, "--db", db, "--target", "sim:reference", "--until-missing-memory",
                              "--json")
    assert '"stopped_before": "seq 3 ICM_GETINFO' in stdout
