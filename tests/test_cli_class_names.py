"""Messages are named by the class of the instance they went to, in events (table and
--json), show and the timeline; --msg takes ICM_* and ACMDM_* names (and matches them in an instance of their class only)."""

import json

from drvtape.schema.memory.classes import fourcc
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.payloads import AcmDrvOpenDescW, CallPayloads, IcOpen
from drvtape.store import Store

SESSION = "dddd0005-0000-4000-8000-000000000005"
VFW_ID, ACM_ID = 0x10, 0x20
ICM_GETINFO, ICM_DECOMPRESS, ACMDM_STREAM_CONVERT = 0x5002, 0x400D, 0x604F


def codec_tape(tapes):
    tape = tapes.Tape(tapes.header(SESSION, driver="C:\\windows\\system32\\codecs.dll", target=None))
    vfw = CallPayloads(lparam2=IcOpen(dwSize=48, fccType=fourcc("vidc"), fccHandler=fourcc("MRLE")))
    acm = CallPayloads(lparam2=AcmDrvOpenDescW(cbStruct=48, fccType=fourcc("audc")))
    tape.send(DRV_OPEN, VFW_ID, payload=vfw)  # 1
    tape.send(DRV_OPEN, ACM_ID, payload=acm)  # 3
    tape.send(ICM_GETINFO, 568, driver_id=VFW_ID, lparam1=0x1000, lparam2=568)  # 5
    tape.send(ICM_DECOMPRESS, 0, driver_id=VFW_ID, lparam1=0x2000, lparam2=48)  # 7
    tape.send(ACMDM_STREAM_CONVERT, 0, driver_id=ACM_ID, lparam1=0x3000, lparam2=0x4000)  # 9
    tape.send(ICM_DECOMPRESS, 0, driver_id=ACM_ID)  # 11: the ICM number sent to an ACM instance
    tape.send(DRV_CLOSE, 1, driver_id=VFW_ID)  # 13
    tape.send(ICM_DECOMPRESS, 0, driver_id=VFW_ID)  # 15: after the instance closed
    return tape


def codec_db(tmp_path, tapes):
    path = tmp_path / "codecs.db"
    with Store.open(str(path), create=True) as store:
        codec_tape(tapes).store_in(store)
    return str(path)


def test_events_json_names_messages_by_instance_class(tmp_path, tapes, drvtape):
    db = codec_db(tmp_path, tapes)
    events = json.loads(drvtape("--db", db, "events", SESSION, "--kind", "call", "--json").stdout)
    assert [(e["seq"], e["msg_name"], e["class"]) for e in events] == [
        (1, "DRV_OPEN", "drv"), (3, "DRV_OPEN", "drv"), (5, "ICM_GETINFO", "vfw"), (7, "ICM_DECOMPRESS", "vfw"),
        (9, "ACMDM_STREAM_CONVERT", "acm"), (11, "DRV_USER+13", "acm"), (13, "DRV_CLOSE", "vfw"),
        (15, "DRV_USER+13", "drv")]


def test_events_table_and_msg_filter_take_class_names(tmp_path, tapes, drvtape):
    db = codec_db(tmp_path, tapes)
    # a number or DRV_* name is the code to any instance; an ICM_* name only to a VfW instance (issue 13)
    for number in ("0x400D", "DRV_USER+13"):
        table = drvtape("--db", db, "events", SESSION, "--msg", number, "--kind", "call")
        assert table.code == 0, table.stderr
        assert "ICM_DECOMPRESS" in table.stdout and table.stdout.count("DRV_USER+13") == 2
    named = json.loads(drvtape("--db", db, "events", SESSION, "--msg", "icm_decompress", "--json").stdout)
    assert [(e["seq"], e["msg_name"]) for e in named] == [(7, "ICM_DECOMPRESS"), (8, "ICM_DECOMPRESS")]
    found = json.loads(drvtape("--db", db, "events", SESSION, "--msg", "ACMDM_STREAM_CONVERT", "--json").stdout)
    assert [e["seq"] for e in found] == [9, 10]
    bad = drvtape("--db", db, "events", SESSION, "--msg", "ICM_BOGUS")
    assert bad.code == 2 and bad.stderr.count("\n") == 1 and "ICM_BOGUS" in bad.stderr


def test_show_and_timeline_name_codec_messages(tmp_path, tapes, drvtape):
    db = codec_db(tmp_path, tapes)
    shown = json.loads(drvtape("--db", db, "show", SESSION, "--json").stdout)
    assert shown["calls_by_msg"]["ICM_GETINFO"] == 1 and shown["calls_by_msg"]["ACMDM_STREAM_CONVERT"] == 1
    page = drvtape("--db", db, "timeline", SESSION, "-o", "-", "--format", "chrome-trace")
    names = [e["name"] for e in json.loads(page.stdout)["traceEvents"] if e.get("cat") == "call"]
    assert names[2:5] == ["ICM_GETINFO", "ICM_DECOMPRESS", "ACMDM_STREAM_CONVERT"]
    html = drvtape("--db", db, "timeline", SESSION, "-o", "-")
    assert '"ACMDM_STREAM_CONVERT"' in html.stdout and '"ICM_GETINFO"' in html.stdout


def test_state_names_calls_by_class(tmp_path, tapes, drvtape):
    db = codec_db(tmp_path, tapes)
    at_convert = json.loads(drvtape("--db", db, "state", SESSION, "--at", "10", "--json").stdout)
    assert [(m["seq"], m["msg_name"]) for m in at_convert["last"]] == [(9, "ACMDM_STREAM_CONVERT")]
    at_end = json.loads(drvtape("--db", db, "state", SESSION, "--json").stdout)
    assert [(m["seq"], m["msg_name"]) for m in at_end["last"]] == [(15, "DRV_USER+13")]


def test_an_alias_gives_the_class_when_drv_open_tells_none(tmp_path, tapes, drvtape):
    tape = tapes.Tape(tapes.header(SESSION, driver="msacm.imaadpcm", target=None))
    tape.send(DRV_OPEN, ACM_ID)
    tape.send(ACMDM_STREAM_CONVERT, 0, driver_id=ACM_ID)
    path = tmp_path / "alias.db"
    with Store.open(str(path), create=True) as store:
        tape.store_in(store)
    events = json.loads(drvtape("--db", str(path), "events", SESSION, "--kind", "call", "--json").stdout)
    assert [e["msg_name"] for e in events] == ["DRV_OPEN", "ACMDM_STREAM_CONVERT"]
