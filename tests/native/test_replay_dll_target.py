"""`drvtape replay --target dll:PATH`, as a user runs it, against Wine's msrle32 and a buggy C driver."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

from drvtape.dllhost import HostCall, run_dll
from drvtape.schema.events import CallEvent, EndEvent, EndReason, FaultEvent, ReturnEvent, SessionHeader, utc_now
from drvtape.schema.messages import (DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_EXITSESSION, DRV_FREE, DRV_LOAD,
                                     DRV_OPEN, DRV_QUERYCONFIGURE)
from drvtape.schema.payloads import CallPayloads, IcOpen
from drvtape.store import Store

RECORDED_ID = 0xABC0  # the instance id as it was on the recording machine: replay must remap it
HDRVR = 0x7E10


def fourcc(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


def store_session(db, driver: str, calls: list[tuple[int, int, CallPayloads | None]], results) -> str:
    """A session of the given (msg, driver_id, payload) calls with the results a real run gave."""
    header = SessionHeader(id=uuid.uuid4(), driver=driver, target=f"dll:{driver}", started_at=utc_now(),
                           source="test")
    events, seq = [], 0
    for (msg, driver_id, payload), result in zip(calls, results):
        seq += 1
        call_seq = seq
        events.append(CallEvent(seq=seq, ts_ns=seq, thread=1, msg=msg, driver_id=driver_id, hdrvr=HDRVR,
                                lparam1=0, lparam2=0, payload=payload))
        seq += 1
        if result.kind == "return":
            value = RECORDED_ID if msg == DRV_OPEN and result.result else result.result
            events.append(ReturnEvent(seq=seq, ts_ns=seq, thread=1, call_seq=call_seq, msg=msg, driver_id=driver_id,
                                      hdrvr=HDRVR, result=value, duration_ns=1))
        else:
            events.append(FaultEvent(seq=seq, ts_ns=seq, thread=1, call_seq=call_seq, msg=msg, driver_id=driver_id,
                                     hdrvr=HDRVR, code=result.code, module=result.module, offset=result.offset))
            events.append(EndEvent(seq=seq + 1, ts_ns=seq + 1, thread=1, reason=EndReason.CRASH, call_seq=call_seq))
            break
    else:
        events.append(EndEvent(seq=seq + 1, ts_ns=seq + 1, thread=1, reason=EndReason.CLOSED))
    with Store.open(db, create=True) as store:
        store.import_sessions([(header, events)])
    return str(header.id)


def learn(path: str, calls) -> list:
    """What the real driver answers, run once with the recorded id mapped to the live one."""
    host_calls = [HostCall(seq=i + 1, thread=0, driver_id=d, hdrvr=HDRVR, msg=m, lparam1=0, lparam2=0,
                           payload2=p.lparam2.model_dump(mode="json") if p else None,
                           expect=RECORDED_ID if m == DRV_OPEN else None)
                  for i, (m, d, p) in enumerate(calls)]
    return run_dll(path, host_calls, stop_on_divergence=False)


def replay_cli(db, session, target, *extra):
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "replay", session, "--target", target,
                           "--json", *extra], capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else None, proc.stderr


def test_a_session_with_msrle32_replays_against_the_real_dll(tmp_path, wine_drivers):
    dll = str(wine_drivers / "msrle32.dll")
    icopen = CallPayloads(lparam2=IcOpen(dwSize=48, fccType=fourcc("vidc"), fccHandler=fourcc("mrle"), dwFlags=1))
    calls = [(DRV_LOAD, 0, None), (DRV_ENABLE, 0, None), (DRV_OPEN, 0, icopen),
             (DRV_QUERYCONFIGURE, RECORDED_ID, None), (DRV_CLOSE, RECORDED_ID, None),
             (DRV_DISABLE, 0, None), (DRV_FREE, 0, None)]
    results = learn(dll, calls)
    assert [r.kind for r in results] == ["return"] * len(calls)
    assert results[2].result != 0  # msrle32 accepted the rebuilt ICOPEN
    session = store_session(tmp_path / "r.db", dll, calls, results)
    code, doc, err = replay_cli(tmp_path / "r.db", session, f"dll:{dll}", "--repeat", "2")
    assert code == 0, (doc, err)
    assert doc["reproduced"] and doc["reproduced_runs"] == 2 and doc["outcome"]["kind"] == "completed"


def test_a_buggy_c_driver_faults_again_at_the_same_place_5_of_5(tmp_path, driver):
    dll = driver("use_after_release")
    calls = [(DRV_LOAD, 0, None), (DRV_ENABLE, 0, None), (DRV_OPEN, 0, None),
             (DRV_EXITSESSION, RECORDED_ID, None), (DRV_CLOSE, RECORDED_ID, None)]
    results = learn(dll, calls)
    assert results[-1].kind == "fault" and results[-1].code == 0xC0000005
    session = store_session(tmp_path / "r.db", dll, calls, results)
    code, doc, err = replay_cli(tmp_path / "r.db", session, f"dll:{dll}", "--repeat", "5")
    assert code == 0, (doc, err)
    assert doc["reproduced_runs"] == 5
    location = doc["location"]
    assert location["msg_name"] == "DRV_CLOSE" and location["code"] == 0xC0000005
    assert location["module"].lower() == Path(dll).name.lower() and location["offset"] == results[-1].offset
