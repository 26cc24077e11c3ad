"""Hostile input that is not a parser's (issue 4, part 6): replay never turns a recorded
address into a pointer, payload sizes are capped at import, and `dll:` loads only the path
given (checked before anything runs; no Wine here)."""

import json
import struct
import sys
import textwrap
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

import drvtape.replay.dll as replay_dll
from drvtape.dllhost.client import HostBatch, HostRun
from drvtape.errors import DrvtapeError
from drvtape.present.text import outcome_text
from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.pointers import ctypes_arg, python_arg
from drvtape.runtime.targets import parse_target
from drvtape.formats.jsonl_reader import parse_jsonl
from drvtape.formats.host_memory import MAX_PAYLOAD, payload_image
from drvtape.schema.payloads import MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS, RawBytes, WideString
from drvtape.store import Store

ADDRESSES = [0x00007FF6DEADBEEF, 0x00007FFE0000F000, -0x0000800000000000, -1, 0x10000, (1 << 63) - 1, -(1 << 63)]
SID = "dddd0001-0000-4000-8000-000000000001"


def _session(calls) -> list[str]:
    """JSONL of a session: (msg, lparam1, lparam2, result, payload) calls, each answered."""
    lines = [{"type": "session", "format": "drvtape-jsonl", "version": 1, "id": SID, "driver": "py-driver",
              "started_at": "2024-05-01T12:00:00Z"}]
    seq = 0
    for msg, l1, l2, result, payload in calls:
        seq += 1
        call = {"kind": "call", "seq": seq, "ts_ns": seq, "thread": 1, "msg": msg, "driver_id": 0, "hdrvr": 0x55,
                "lparam1": l1, "lparam2": l2}
        if payload is not None:
            call["payload"] = payload
        lines.append(call)
        seq += 1
        lines.append({"kind": "return", "seq": seq, "ts_ns": seq, "thread": 1, "call_seq": seq - 1, "msg": msg,
                      "driver_id": 0, "hdrvr": 0x55, "result": result, "duration_ns": 1})
    lines.append({"kind": "end", "seq": seq + 1, "ts_ns": seq + 1, "thread": 1, "reason": "closed"})
    return [json.dumps(line) for line in lines]


SPY = """
    SEEN = []

    def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):
        SEEN.append((msg, lparam1, lparam2))
        return 1
"""


def test_replay_hands_an_in_process_driver_recorded_addresses_as_the_same_integers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = f"spy_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(SPY))
    calls = [(0x4000 + n, address, ADDRESSES[-1 - n], 1, None) for n, address in enumerate(ADDRESSES)]
    calls.append((3, 0x7FF6_0000_1000, 0x7FF6_0000_2000, 1,
                  {"lparam1": {"type": "wstr", "text": "section"}, "lparam2": {"type": "bytes", "hex": "00ff"}}))
    db = tmp_path / "p.db"
    with Store.open(str(db), create=True) as store:
        store.import_sessions(parse_jsonl(_session(calls), "p.jsonl"))
        recording = load_recording(store, "last")
    report = replay_recording(recording, parse_target(f"py:{module}:DriverProc"))
    assert report.reproduced, [outcome_text(o) for o in report.runs]
    seen = sys.modules[module].SEEN
    # Without a payload the driver gets the recorded integer, bit for bit; nothing is dereferenced.
    assert seen[:len(ADDRESSES)] == [(0x4000 + n, a, ADDRESSES[-1 - n]) for n, a in enumerate(ADDRESSES)]
    assert all(type(l1) is int and type(l2) is int for _, l1, l2 in seen[:len(ADDRESSES)])
    # With a payload it gets the copied data, never the recorded address.
    assert seen[-1] == (3, "section", b"\x00\xff")


@pytest.mark.parametrize("address", ADDRESSES)
def test_pointer_arguments_without_payload_stay_integers(address):
    assert python_arg(address, None) == address
    keep: list = []
    assert ctypes_arg(python_arg(address, None), keep) == address and keep == []


def test_a_payload_is_rebuilt_in_a_fresh_buffer_not_at_the_recorded_address():
    keep: list = []
    recorded = 0x00007FF6DEADBEEF
    address = ctypes_arg(python_arg(recorded, WideString(text="vidc")), keep)
    assert address != recorded and len(keep) == 1
    assert python_arg(recorded, RawBytes(hex="0102")) == b"\x01\x02"


def test_a_dll_replay_sends_recorded_addresses_as_values_and_payloads_as_data(tmp_path, monkeypatch):
    dll = tmp_path / "drv.dll"
    dll.write_bytes(b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0x40) + b"PE\0\0" + struct.pack("<H", 0x8664))  # an x64 PE header
    db = tmp_path / "d.db"
    payload = {"lparam1": {"type": "wstr", "text": "s"}}
    with Store.open(str(db), create=True) as store:
        store.import_sessions(parse_jsonl(_session([(3, 0x7FF6_DEAD_BEEF, -1, 1, payload),
                                                    (0x4000, 0x7FF6_DEAD_BEEF, 7, 1, None)]), "d.jsonl"))
        recording = load_recording(store, "last")
    sent = {}
    monkeypatch.setattr(replay_dll, "host_available", lambda arch: None)
    @contextmanager
    def batch(path, calls):  # what the host would be sent; no host is started
        sent.update(path=path, calls=calls)
        yield HostBatch(path, calls, tmp_path / "batch.bin", 0)

    monkeypatch.setattr(replay_dll, "host_batch", batch)
    monkeypatch.setattr(replay_dll, "run_batch", lambda batch, **_: HostRun([], 0.0, 0))
    monkeypatch.chdir(tmp_path)
    replay_recording(recording, parse_target("dll:drv.dll"))
    assert sent["path"] == str(dll.resolve())
    first, second = sent["calls"]
    assert (first.lparam1, first.payload1) == (0x7FF6_DEAD_BEEF, {"type": "wstr", "text": "s"})
    assert (second.lparam1, second.lparam2, second.payload1, second.payload2) == (0x7FF6_DEAD_BEEF, 7, None, None)


# ---- payload caps -------------------------------------------------------------------------------

ASTRAL = "\U0001d11e"  # MUSICAL SYMBOL G CLEF: two UTF-16 code units


@pytest.mark.parametrize("payload", [
    {"type": "wstr", "text": "x" * (MAX_TEXT_CHARS + 1)},
    {"type": "bytes", "hex": "00" * (MAX_PAYLOAD_BYTES + 1)},
    {"type": "DRVCONFIGINFO", "section": "s" * (MAX_TEXT_CHARS + 1)},
    {"type": "ACMDRVOPENDESCW", "cbStruct": 48, "fccType": 1, "alias": "a" * (MAX_TEXT_CHARS + 1)},
], ids=["wstr", "bytes", "DRVCONFIGINFO", "ACMDRVOPENDESCW"])
def test_payloads_over_the_cap_are_refused_at_import(tmp_path, drvtape, payload):
    lines = _session([(3, 0, 0, 1, {"lparam2": payload})])
    with pytest.raises(DrvtapeError, match=r"^big\.jsonl:2: field 'payload\.lparam2\..*at most"):
        parse_jsonl(lines, "big.jsonl")
    src = tmp_path / "big.jsonl"
    src.write_text("\n".join(lines) + "\n")
    result = drvtape("--db", tmp_path / "b.db", "import", src)
    assert result.code == 2 and result.stderr.count("\n") == 1 and "at most" in result.stderr
    assert not (tmp_path / "b.db").exists()


def test_payloads_at_the_cap_are_accepted():
    payloads = {"lparam1": {"type": "wstr", "text": "x" * MAX_TEXT_CHARS},
                "lparam2": {"type": "bytes", "hex": "ab" * MAX_PAYLOAD_BYTES}}
    [(_, events)] = parse_jsonl(_session([(3, 0, 0, 1, payloads)]), "cap.jsonl")
    assert len(events[0].payload.lparam2.hex) == 2 * MAX_PAYLOAD_BYTES


@pytest.mark.parametrize("payload", [
    {"type": "wstr", "text": ASTRAL * MAX_TEXT_CHARS},
    {"type": "bytes", "hex": "ab" * MAX_PAYLOAD_BYTES},
    {"type": "DRVCONFIGINFO", "section": ASTRAL * MAX_TEXT_CHARS, "alias": ASTRAL * MAX_TEXT_CHARS},
    {"type": "ACMDRVOPENDESCW", "cbStruct": 48, "fccType": 1, "fccComp": 0, "dwVersion": 0, "dwFlags": 0,
     "dwError": 0, "section": ASTRAL * MAX_TEXT_CHARS, "alias": ASTRAL * MAX_TEXT_CHARS, "dnDevNode": 0},
], ids=["wstr", "bytes", "DRVCONFIGINFO", "ACMDRVOPENDESCW"])
def test_every_payload_an_import_accepts_fits_what_drvhost_takes(payload):
    """Issue 18 item 10: a 32,768-character string imported, then refused by dll replay. The
    worst case: characters outside the BMP, a surrogate pair (4 bytes) each in UTF-16."""
    [(_, events)] = parse_jsonl(_session([(3, 0, 0, 1, {"lparam2": payload})]), "cap.jsonl")
    image, _ = payload_image(events[0].payload.lparam2.model_dump(mode="json"))
    assert len(image) <= MAX_PAYLOAD


# ---- dll: loads only the path given -------------------------------------------------------------


def test_a_relative_dll_path_resolves_to_the_absolute_file_given(tmp_path, monkeypatch):
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "name.dll").write_bytes(b"MZ")
    monkeypatch.chdir(tmp_path)
    target = parse_target("dll:drivers/name.dll")
    assert target.kind == "dll" and not target.in_process
    assert Path(target.name).is_absolute() and Path(target.name) == (tmp_path / "drivers" / "name.dll").resolve()
    assert parse_target("dll:./drivers/../drivers/name.dll").name == target.name


@pytest.mark.parametrize("spec", [
    "dll:missing.dll", "dll:drivers", "dll:", "dll:drivers/name.dll\x00.txt", "dll:name",
    pytest.param("dll:" + "a" * 5000 + ".dll", id="dll:a*5000.dll"),
    "DLL:drivers/name.dll", "dll:\ud800.dll",
])
def test_a_dll_that_is_not_the_given_existing_file_is_refused_before_anything_runs(tmp_path, monkeypatch, spec):
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "name.dll").write_bytes(b"MZ")
    (tmp_path / "name.dll").write_bytes(b"MZ")  # "dll:name" must not find name.dll: no search, no suffix
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DrvtapeError):
        parse_target(spec)


def test_replay_to_a_missing_dll_exits_2_before_starting_a_host(tmp_path, drvtape, tape_db, monkeypatch):
    def never(*_, **__):
        raise AssertionError("a host was started for a missing DLL")

    monkeypatch.setattr(replay_dll, "host_batch", never)
    monkeypatch.setattr(replay_dll, "host_available", never)
    monkeypatch.chdir(tmp_path)
    result = drvtape("--db", tape_db, "replay", "last", "--target", "dll:nowhere/driver.dll")
    assert result.code == 2 and result.stderr.startswith("drvtape: error: ") and result.stderr.count("\n") == 1
    assert "no driver file" in result.stderr


def test_a_replay_refuses_recorded_data_the_catalog_says_a_parameter_cannot_point_to(tmp_path):
    payload = {"lparam2": {"type": "wstr", "text": "not a DRVCONFIGINFO"}}
    with Store.open(str(tmp_path / "c.db"), create=True) as store:
        store.import_sessions(parse_jsonl(_session([(7, 0, 0x7FF6_0000_1000, 1, payload)]), "c.jsonl"))
        recording = load_recording(store, "last")
    with pytest.raises(DrvtapeError, match=r"^seq 1: DRV_CONFIGURE's lParam2 points to DRVCONFIGINFO data, "
                                           r"but the session holds wstr data there$"):
        replay_recording(recording, parse_target("sim:reference"))
