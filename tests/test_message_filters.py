"""Message filters take every class's and entry point's names (issue 13): `events --msg` and
`sessions --with-msg` match a device message at its entry point only (MODM_SETVOLUME is not
DRV_EXITSESSION, though both are 11), an ICM_*/ACMDM_*/MCI_* name only at an instance of its
class, and a number or DRV_* name DriverProc's code at any instance; on both engines."""

import json
import struct

import pytest

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import EndReason
from drvtape.schema.memory.selector import MessageSelector, parse_selector
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.messages import DRV_CLOSE, DRV_EXITSESSION, DRV_OPEN
from drvtape.schema.payloads import CallPayloads, RawBytes
from drvtape.store import Store

DEVICES = "dddd0013-0000-4000-8000-000000000013"
PLAIN = "eeee0013-0000-4000-8000-000000000013"
MCI_ID, DRV_ID = 0x30, 0x40
MCI_STATUS, WODM_WRITE, MODM_SETVOLUME, UNNAMED = 0x814, 9, 11, 0x4001


def mci_open() -> CallPayloads:
    """DRV_OPEN's MCI_OPEN_DRIVER_PARMS as the tap copies it on x64 (wDeviceID 1, lpstrParams zeroed)."""
    return CallPayloads(lparam2=RawBytes(hex=struct.pack("<IQII", 1, 0, 0xFFFF, 0x20A).hex()))


def devices_tape(tapes):
    """An MCI instance, a drv instance, and modMessage's and wodMessage's calls, in one session."""
    tape = tapes.Tape(tapes.header(DEVICES, driver="C:\\windows\\system32\\mixed.dll", target=None))
    tape.send(DRV_OPEN, MCI_ID, payload=mci_open())  # 1
    tape.send(DRV_OPEN, DRV_ID)  # 3: an instance DRV_OPEN tells no class of
    tape.send(MCI_STATUS, 0, driver_id=MCI_ID)  # 5
    tape.send(MCI_STATUS, 0, driver_id=DRV_ID)  # 7: the same number to a drv instance
    tape.send(DRV_EXITSESSION, 0, driver_id=DRV_ID)  # 9
    tape.send(MODM_SETVOLUME, 0, entry_point=EntryPoint.MOD, driver_id=0x7000)  # 11
    tape.send(WODM_WRITE, 0, entry_point=EntryPoint.WOD, driver_id=0x7100)  # 13
    tape.send(DRV_CLOSE, 1, driver_id=MCI_ID)  # 15
    tape.send(MCI_STATUS, 0, driver_id=MCI_ID)  # 17: after its instance closed
    tape.send(UNNAMED, 0, entry_point=EntryPoint.WOD)  # 19: a code wodMessage does not name
    tape.end(EndReason.CLOSED)
    return tape


def fill(db: str, tapes) -> None:
    plain = tapes.Tape(tapes.header(PLAIN, minutes=1))
    plain.send(DRV_EXITSESSION, 0)
    plain.end(EndReason.CLOSED)
    with Store.open(db, create=True) as store:
        devices_tape(tapes).store_in(store)
        plain.store_in(store)


def test_names_resolve_to_their_entry_point_and_class():
    assert parse_selector("modm_setvolume") == MessageSelector(MODM_SETVOLUME, EntryPoint.MOD)
    assert parse_selector("DRV_EXITSESSION") == parse_selector("11") == MessageSelector(DRV_EXITSESSION)
    assert parse_selector("exitsession") == MessageSelector(DRV_EXITSESSION)
    assert parse_selector("MCI_STATUS") == MessageSelector(MCI_STATUS, driver_class=DriverClass.MCI)
    assert parse_selector("ICM_DECOMPRESS").driver_class is DriverClass.VFW
    assert parse_selector("AUXDM_GETVOLUME") == MessageSelector(5, EntryPoint.AUX)
    assert parse_selector("MXDM_INIT") == MessageSelector(100, EntryPoint.MXD)


def seqs(drvtape, db: str, *args: str) -> list[int]:
    done = drvtape("--db", db, "events", DEVICES, "--kind", "call", "--json", *args)
    assert done.code == 0, done.stderr
    return [e["seq"] for e in json.loads(done.stdout)]


def test_events_msg_matches_the_entry_point_and_class(db, tapes, drvtape):
    fill(db, tapes)
    assert seqs(drvtape, db, "--msg", "MODM_SETVOLUME") == [11]
    assert seqs(drvtape, db, "--msg", "DRV_EXITSESSION") == seqs(drvtape, db, "--msg", "11") == [9]
    assert seqs(drvtape, db, "--msg", "wodm_write") == [13]
    assert seqs(drvtape, db, "--msg", "MCI_STATUS") == [5]
    assert seqs(drvtape, db, "--msg", "0x814") == seqs(drvtape, db, "--msg", "DRV_MCI_FIRST+20") == [5, 7, 17]
    assert seqs(drvtape, db, "--msg", "MCI_STATUS", "--msg", "MODM_SETVOLUME", "--msg", "DRV_CLOSE") == [5, 11, 15]
    assert seqs(drvtape, db, "--msg", "MCI_STATUS", "--limit", "1") == [5]
    returns = json.loads(drvtape("--db", db, "events", DEVICES, "--msg", "MCI_STATUS", "--json").stdout)
    assert [(e["seq"], e["kind"], e["msg_name"]) for e in returns] == [(5, "call", "MCI_STATUS"),
                                                                       (6, "return", "MCI_STATUS")]


def shown_calls(drvtape, db: str, msg: str) -> list[tuple[int, int, str]]:
    done = drvtape("--db", db, "show", DEVICES, "--msg", msg, "--json")
    assert done.code == 0, done.stderr
    return [(c["call"]["seq"], c["return"]["seq"], c["call"]["msg_name"]) for c in json.loads(done.stdout)["calls"]]


def test_show_msg_selects_calls_as_events_msg_does(db, tapes, drvtape):
    fill(db, tapes)
    assert shown_calls(drvtape, db, "MODM_SETVOLUME") == [(11, 12, "MODM_SETVOLUME")]
    assert shown_calls(drvtape, db, "DRV_EXITSESSION") == [(9, 10, "DRV_EXITSESSION")]
    assert shown_calls(drvtape, db, "MCI_STATUS") == [(5, 6, "MCI_STATUS")]
    device_call = json.loads(drvtape("--db", db, "show", DEVICES, "--seq", "13", "--json").stdout)
    assert (device_call["call"]["msg_name"], device_call["return"]["seq"]) == ("WODM_WRITE", 14)
    refused = drvtape("--db", db, "show", DEVICES, "--msg", "WIDM_START")
    assert refused.code == 2 and "has no call of WIDM_START" in refused.stderr


def sessions(drvtape, db: str, msg: str) -> list[str]:
    done = drvtape("--db", db, "sessions", "--with-msg", msg, "--json")
    assert done.code == 0, done.stderr
    return [s["id"] for s in json.loads(done.stdout)]


def test_sessions_with_msg_matches_the_entry_point_and_class(db, tapes, drvtape):
    fill(db, tapes)
    assert sessions(drvtape, db, "MODM_SETVOLUME") == [DEVICES]
    assert sessions(drvtape, db, "DRV_EXITSESSION") == [DEVICES, PLAIN]
    assert sessions(drvtape, db, "MCI_STATUS") == [DEVICES]
    assert sessions(drvtape, db, "WIDM_START") == sessions(drvtape, db, "ICM_DECOMPRESS") == []
    with Store.open(db) as store:
        assert [str(u) for u in store.sessions_with(parse_selector("MODM_SETVOLUME"))] == [DEVICES]
        assert [str(u) for u in store.sessions_with(DRV_EXITSESSION)] == [DEVICES, PLAIN]


@pytest.mark.parametrize("command", [["events", DEVICES, "--msg"], ["sessions", "--with-msg"]])
@pytest.mark.parametrize("name, guess", [("MCI_STATSU", "MCI_STATUS"), ("wodm_wirte", "WODM_WRITE"),
                                         ("MODM_NOTHING_LIKE_IT_AT_ALL", None)])
def test_an_unknown_name_is_one_line_with_the_closest_name(tmp_path, tapes, drvtape, command, name, guess):
    db = str(tmp_path / "f.db")
    fill(db, tapes)
    done = drvtape("--db", db, *command, name)
    assert done.code == 2 and done.stderr.count("\n") == 1 and not done.stdout
    assert name in done.stderr and "Traceback" not in done.stderr
    assert (f"did you mean {guess}?" in done.stderr) if guess else "did you mean" not in done.stderr

