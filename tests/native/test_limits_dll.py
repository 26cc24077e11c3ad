"""Issue 18 item 10: the limits of import, record and dll: replay agree. The largest payloads a
session can hold reach a DLL whole; drvhost runs as many threads as a session of 2,000 has,
and more than it runs is refused in one line before it starts; a driver that freezes its
whole host is replayed as a hang at its own call."""
import json
from pathlib import Path

from drvtape.schema.events import EndReason
from drvtape.schema.messages import DRV_INSTALL, DRV_OPEN, DRV_USER
from drvtape.schema.payloads import (MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS, AcmDrvOpenDescW, CallPayloads,
                                     DrvConfigInfo, RawBytes, WideString)
from drvtape.formats.host_protocol import MAX_HOST_THREADS
from drvtape.store import Store
from tests.native.test_dllhost_remap_payloads import fnv_words

ONE_LINE_EXIT_2 = (2, 1)


def _import_via_jsonl(drvtape, tmp_path: Path, tape) -> Path:
    """The session stored, exported and imported into a new database, as a user's file would be."""
    with Store.open(tmp_path / "made.db", create=True) as store:
        tape.store_in(store)
    exported = drvtape("--db", tmp_path / "made.db", "export", "last", "-o", tmp_path / "s.jsonl")
    assert exported.code == 0, exported.stderr
    imported = drvtape("--db", tmp_path / "r.db", "import", tmp_path / "s.jsonl")
    assert imported.code == 0, imported.stderr
    return tmp_path / "r.db"


def test_the_largest_payloads_an_import_accepts_reach_the_dll_whole(drvtape, tmp_path, tapes, driver):
    """checksum answers a hash of what its pointers point at: each call's recorded result."""
    text = "\u00e9" * MAX_TEXT_CHARS
    section, alias = "\U0001d11e" * MAX_TEXT_CHARS, "a" * MAX_TEXT_CHARS  # a surrogate pair each: the largest
    acm_section = "\U0001d11f" * MAX_TEXT_CHARS
    blob = bytes(range(256)) * (MAX_PAYLOAD_BYTES // 256)
    acm = AcmDrvOpenDescW(cbStruct=48, fccType=0x63647561, section=acm_section, alias=section)
    tape = tapes.Tape(tapes.header("dddd0005-0000-4000-8000-000000000005", driver="checksum"))
    tape.send(DRV_USER, fnv_words(text), payload=CallPayloads(lparam1=WideString(text=text)))
    tape.send(DRV_INSTALL, fnv_words(20, section, alias),
              payload=CallPayloads(lparam2=DrvConfigInfo(section=section, alias=alias)))
    tape.send(DRV_USER + 1, fnv_words(48, acm.fccType, 0, 0, 0, 0, acm_section, section, 0),
              payload=CallPayloads(lparam2=acm))
    tape.send(DRV_USER + 2, fnv_words(*blob), lparam2=len(blob), payload=CallPayloads(lparam1=RawBytes(hex=blob.hex())))
    tape.end(EndReason.CLOSED)
    db = _import_via_jsonl(drvtape, tmp_path, tape)
    run = drvtape("--db", db, "replay", "last", "--target", f"dll:{driver('checksum')}", "--json")
    assert run.code == 0, (run.stdout, run.stderr)
    assert json.loads(run.stdout)["reproduced"]


def _threads_tape(tapes, n_threads: int):
    """DRV_OPEN on one thread, then a DRV_USER to its instance on each of n_threads - 1 more:
    fresh_id answers 1 for an instance it opened in this process."""
    tape = tapes.Tape(tapes.header("eeee0006-0000-4000-8000-000000000006", driver="fresh_id"))
    tape.send(DRV_OPEN, tapes.INSTANCE)
    for thread in range(1, n_threads):
        tape.send(DRV_USER, 1, thread=0x1000 + thread, driver_id=tapes.INSTANCE)
    tape.end(EndReason.CLOSED)
    return tape


def test_a_session_of_2000_threads_replays_against_a_dll(drvtape, tmp_path, tapes, driver):
    db = _import_via_jsonl(drvtape, tmp_path, _threads_tape(tapes, 2000))
    run = drvtape("--db", db, "replay", "last", "--target", f"dll:{driver('fresh_id')}", "--json", "--timeout", "60")
    assert run.code == 0, (run.stdout, run.stderr)
    report = json.loads(run.stdout)
    assert report["reproduced"] and report["outcome"]["kind"] == "completed"


def test_more_threads_than_drvhost_runs_is_one_line_and_serial_replays_it(drvtape, tmp_path, tapes, driver):
    db = _import_via_jsonl(drvtape, tmp_path, _threads_tape(tapes, MAX_HOST_THREADS + 1))
    dll = f"dll:{driver('fresh_id')}"
    run = drvtape("--db", db, "replay", "last", "--target", dll)
    assert (run.code, run.stderr.count("\n")) == ONE_LINE_EXIT_2, run.stderr
    assert f"{MAX_HOST_THREADS + 1} threads: drvhost runs at most {MAX_HOST_THREADS}" in run.stderr
    serial = drvtape("--db", db, "replay", "last", "--target", dll, "--threads", "serial", "--json")
    assert serial.code == 0 and json.loads(serial.stdout)["reproduced"], serial.stderr


def test_a_workload_of_more_threads_than_drvhost_runs_is_refused_before_anything_is_stored(drvtape, tmp_path,
                                                                                            driver):
    steps = ['[[steps]]\naction = "open"\ninstance = "a"\n']
    steps += [f'[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_USER"\nthread = "t{n}"\n'
              for n in range(MAX_HOST_THREADS)]
    workload = tmp_path / "wide.toml"
    workload.write_text("\n".join(steps))
    run = drvtape("--db", tmp_path / "r.db", "record", "--target", f"dll:{driver('fresh_id')}", "-w", workload)
    assert (run.code, run.stderr.count("\n")) == ONE_LINE_EXIT_2, run.stderr
    assert f"{MAX_HOST_THREADS + 1} threads: drvhost runs at most {MAX_HOST_THREADS}" in run.stderr
    with Store.open(tmp_path / "r.db") as store:
        assert store.sessions() == []


def test_a_driver_that_freezes_its_host_is_replayed_as_a_hang_at_its_own_call(drvtape, tmp_path, driver,
                                                                              monkeypatch):
    """freezer's DRV_USER suspends every other thread of drvhost (its watchdog too); the host
    used to lose the DRV_LOAD..DRV_OPEN returns it still held, and the replay named seq 1."""
    monkeypatch.setattr("drvtape.dllhost.client.SILENCE_S", 2.0)
    dll = driver("freezer")
    workload = tmp_path / "freeze.toml"
    workload.write_text('[[steps]]\naction = "open"\ninstance = "a"\n\n'
                        '[[steps]]\naction = "send"\ninstance = "a"\nmsg = "DRV_USER"\n\n'
                        '[[steps]]\naction = "close"\ninstance = "a"\n')
    recorded = drvtape("--db", tmp_path / "r.db", "record", "--target", f"dll:{dll}", "-w", workload, "--json")
    assert recorded.code == 0, recorded.stderr
    doc = json.loads(recorded.stdout)
    assert doc["end_reason"] == "hang" and doc["call_seq"] > 1
    run = drvtape("--db", tmp_path / "r.db", "replay", "last", "--target", f"dll:{dll}", "--repeat", "5", "--json")
    report = json.loads(run.stdout)
    assert run.code == 0 and report["reproduced_runs"] == 5, (report, run.stderr)
    assert {(o["kind"], o["seq"], o["msg_name"]) for o in report["outcomes"]} == {("hang", doc["call_seq"], "DRV_USER")}
