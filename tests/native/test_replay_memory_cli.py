"""`drvtape replay` of a stored session with memory, through the catalog: memcodec.c answers
ICM_GETINFO as a VfW codec does, and the session says so (DRV_OPEN got an ICOPEN of type
vidc). Reproduced with its ICINFO compared; a copy with one recorded byte changed is not,
and the report names the field."""
from __future__ import annotations

import struct
import uuid

import pytest

from drvtape.replay import load_recording
from drvtape.replay.derive import save_derived
from drvtape.runtime.targets import parse_target
from drvtape.schema import details
from drvtape.schema.events import EndReason, SessionHeader, utc_now
from drvtape.schema.memory.captured import Phase, blob_key, block
from drvtape.schema.memory.classes import fourcc
from drvtape.schema.payloads import CallPayloads, IcOpen, WideString
from drvtape.schema.rows import call_row, end_row, return_row
from drvtape.store import opened

from cli_runner import run_cli

DRV_OPEN, DRV_CLOSE, ICM_GETINFO = 3, 4, 0x4000 + 0x1000 + 2
OPENED, ICINFO_AT, ICINFO_SIZE = 0x210_0000_1230, 0x14_F7A0, 568
DESCRIPTION_AT = 24 + 16 * 2  # ICINFO.szDescription


def icinfo_written() -> bytes:
    """What memcodec.c writes into an ICINFO."""
    def wide(text: str, units: int) -> bytes:
        return text.encode("utf-16-le").ljust(units * 2, b"\0")

    head = struct.pack("<6I", ICINFO_SIZE, fourcc("vidc"), fourcc("fake"), 0, 0x00010000, 0x104)
    return head + wide("fake", 16) + wide("drvtape fake codec", 128) + wide("", 128)


def store(db, written: bytes) -> str:
    given = bytes(ICINFO_SIZE)
    before = block("lparam1", Phase.CALL, ICINFO_AT, ICINFO_SIZE, given)
    after = block("lparam1", Phase.RETURN, ICINFO_AT, ICINFO_SIZE, written)
    opening = CallPayloads(lparam1=WideString(text="vidc.fake"),
                           lparam2=IcOpen(dwSize=56, fccType=fourcc("vidc"), fccHandler=fourcc("fake")))
    rows = [
        call_row(1, 0, 1, DRV_OPEN, 0, 0x10, 0, 0, 0, details.encode_call(opening)),
        return_row(2, 1, 1, DRV_OPEN, 0, 0x10, OPENED, 1, 1),
        call_row(3, 2, 1, ICM_GETINFO, OPENED, 0x10, ICINFO_AT, ICINFO_SIZE, 0, details.encode_call(None, [before])),
        return_row(4, 3, 1, ICM_GETINFO, OPENED, 0x10, ICINFO_SIZE, 3, 1, details.encode_return([after])),
        call_row(5, 4, 1, DRV_CLOSE, OPENED, 0x10, 0, 0, 0),
        return_row(6, 5, 1, DRV_CLOSE, OPENED, 0x10, 1, 5, 1),
        end_row(7, 6, 1, EndReason.CLOSED),
    ]
    header = SessionHeader(id=uuid.uuid4(), driver="vidc.fake", started_at=utc_now(), source="ingest")
    with opened(str(db), create=True) as s:
        s.store_session(header, rows, {blob_key(given): given, blob_key(written): written})
    return str(header.id)


@pytest.fixture
def memcodec_target(driver) -> str:
    return f"dll:{driver('memcodec')}"


def test_a_stored_session_reproduces_with_its_output_compared(tmp_path, memcodec_target):
    db = tmp_path / "s.db"
    session = store(db, icinfo_written())
    code, stdout, stderr = run_cli("replay", session, "--db", db, "--target", memcodec_target, "--repeat", "5")
    assert (code, stderr) == (0, "")
    assert "1 output block(s), 568 byte(s) compared" in stdout
    assert "reproduced: 5 of 5 run(s)" in stdout


def test_one_changed_byte_in_a_copy_is_not_reproduced_and_names_the_field(tmp_path, memcodec_target):
    db = tmp_path / "s.db"
    changed = bytearray(icinfo_written())
    changed[DESCRIPTION_AT + 2] ^= 0x20  # "drvtape" -> "dRvtape"
    session = store(db, bytes(changed))
    code, stdout, _ = run_cli("replay", session, "--db", db, "--target", memcodec_target, "--json")
    assert code == 1
    assert (f'"first_memory_difference": "seq 3 ICM_GETINFO: lparam1.szDescription differs at byte '
            f'{DESCRIPTION_AT + 2} (recorded 0x52, replayed 0x72)"') in stdout
    code, stdout, _ = run_cli("replay", session, "--db", db, "--target", memcodec_target)
    assert code == 1
    assert f"diverged at seq 3 (ICM_GETINFO): expected lparam1.szDescription byte {DESCRIPTION_AT + 2}" in \
        " ".join(stdout.split())


def test_a_derived_session_keeps_the_memory_and_replays_with_it(tmp_path, memcodec_target):
    """minimize and explore store their runs against a DLL as sessions: with the memory each
    call was given and what this run's driver wrote, so they replay compared too."""
    db = tmp_path / "s.db"
    session = store(db, icinfo_written())
    with opened(str(db)) as s:
        recording = load_recording(s, session)
    derived = save_derived(recording, recording.calls, parse_target(memcodec_target), str(db), source="test")
    code, stdout, stderr = run_cli("replay", derived, "--db", db, "--target", memcodec_target)
    assert (code, stderr) == (0, ""), stdout
    assert "1 output block(s), 568 byte(s) compared" in stdout
