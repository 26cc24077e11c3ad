"""Replay sessions against Wine's own installable drivers: learn the results, then reproduce them.

What Wine 8.0's drivers answer (observed here; Windows' own drivers may answer otherwise):
- DRV_OPEN with lParam2 NULL: msrle32 returns 0xFFFF0000 (a "configure only" open);
  iccvid and msvidc32 open an instance (a heap address); the ACM codecs return 1.
- DRV_OPEN with an ICOPEN: msrle32 checks fccType 'vidc' and fccHandler, iccvid and
  msvidc32 only fccType 'vidc'; the ACM codecs return 1 whatever the ACMDRVOPENDESCW says.
- msvidc32 answers ICERR_UNSUPPORTED (-1) to DRV_ENABLE, DRV_CLOSE, DRV_DISABLE, DRV_FREE;
  iccvid answers 0 to them; msrle32 and the ACM codecs 1.
"""
from __future__ import annotations

import dataclasses
import pytest

from drvtape.dllhost import HostCall, run_dll

DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_CLOSE, DRV_DISABLE, DRV_FREE = 1, 2, 3, 4, 5, 6
ICM_GETINFO, ICM_ABOUT = 0x5002, 0x500B  # ICM_RESERVED_LOW (DRV_USER+0x1000) + 2, + 11
ACMDM_DRIVER_DETAILS, ACMDM_DRIVER_ABOUT = 0x600A, 0x600B  # ACMDM_BASE (DRV_USER+0x2000) + 10, + 11
ICMODE_COMPRESS, ICMODE_QUERY = 1, 4
ICINFO_SIZE = 568
ACMDRIVERDETAILSW_SIZE = 1808  # naturally aligned, as Wine's msacm.h lays it out
RECORDED_ID = 0x5EC0_0000_0001  # stands for whatever the recording saw; never the real value
H_DRIVER, H_INSTANCE = 0x1000, 0x1001


def fourcc(s: str) -> int:
    return int.from_bytes(s.encode("ascii"), "little")


def zeroed(size: int) -> dict:
    """An output buffer whose first DWORD holds its size, as the class clients pass it."""
    return {"type": "bytes", "hex": (size.to_bytes(4, "little") + bytes(size - 4)).hex()}


def icopen(handler: str, flags: int) -> dict:
    return {"type": "ICOPEN", "dwSize": 56, "fccType": fourcc("vidc"), "fccHandler": fourcc(handler),
            "dwVersion": 0x104, "dwFlags": flags, "dwError": 0, "dnDevNode": 0}


def acmopen(alias: str) -> dict:
    return {"type": "ACMDRVOPENDESCW", "cbStruct": 48, "fccType": fourcc("audc"), "fccComp": 0,
            "dwVersion": 0x04000000, "dwFlags": 0, "dwError": 0, "section": "Drivers32",
            "alias": alias, "dnDevNode": 0}


VFW_MESSAGES = [(ICM_GETINFO, zeroed(ICINFO_SIZE), ICINFO_SIZE), (ICM_ABOUT, None, 0)]
ACM_MESSAGES = [(ACMDM_DRIVER_DETAILS, zeroed(ACMDRIVERDETAILSW_SIZE), 0), (ACMDM_DRIVER_ABOUT, None, 0)]

SESSIONS = {
    "msrle32.dll": ("vidc.mrle", icopen("mrle", ICMODE_QUERY), VFW_MESSAGES),
    "iccvid.dll": ("vidc.cvid", icopen("cvid", ICMODE_QUERY), VFW_MESSAGES),
    "msvidc32.dll": ("vidc.msvc", icopen("cram", ICMODE_COMPRESS), VFW_MESSAGES),
    "msadp32.acm": ("msacm.msadpcm", acmopen("msacm.msadpcm"), ACM_MESSAGES),
    "imaadp32.acm": ("msacm.imaadpcm", acmopen("msacm.imaadpcm"), ACM_MESSAGES),
    "msg711.acm": ("msacm.msg711", acmopen("msacm.msg711"), ACM_MESSAGES),
}


def session(alias: str, open_struct: dict, class_messages: list) -> list[HostCall]:
    """LOAD, ENABLE, OPEN, the class messages, CLOSE, DISABLE, FREE, as a recording has them.
    Only DRV_OPEN has a recorded return (RECORDED_ID: it maps the instance's id)."""
    def call(msg, driver_id=RECORDED_ID, hdrvr=H_INSTANCE, lparam1=0, lparam2=0, **payloads):
        return HostCall(seq=0, thread=0, driver_id=driver_id, hdrvr=hdrvr, msg=msg,
                        lparam1=lparam1, lparam2=lparam2, **payloads)

    calls = [call(DRV_LOAD, 0, H_DRIVER), call(DRV_ENABLE, 0, H_DRIVER),
             call(DRV_OPEN, 0, payload1={"type": "wstr", "text": alias}, payload2=open_struct,
                  expect=RECORDED_ID)]
    for msg, buffer, size in class_messages:
        calls.append(call(msg, lparam1=-1 if buffer is None else 0, lparam2=size, payload1=buffer))
    calls += [call(DRV_CLOSE), call(DRV_DISABLE, hdrvr=H_DRIVER), call(DRV_FREE, hdrvr=H_DRIVER)]
    return [dataclasses.replace(c, seq=i) for i, c in enumerate(calls, 1)]


def recorded(calls: list[HostCall], results) -> list[HostCall]:
    """The calls with a first run's results as their recorded returns (DRV_OPEN keeps RECORDED_ID)."""
    by_seq = {r.seq: r.result for r in results}
    return [c if c.msg == DRV_OPEN else dataclasses.replace(c, expect=by_seq[c.seq]) for c in calls]


@pytest.mark.parametrize("dll", sorted(SESSIONS))
def test_wine_driver_session_is_reproduced(wine_drivers, dll):
    path = wine_drivers / dll
    calls = session(*SESSIONS[dll])

    learned = run_dll(str(path), calls, stop_on_divergence=False)
    assert [r.kind for r in learned] == ["return"] * len(calls)
    assert learned[0].result != 0  # DRV_LOAD
    assert learned[2].result != 0  # DRV_OPEN with a real open struct

    replayed = run_dll(str(path), recorded(calls, learned))
    assert [(r.seq, r.kind) for r in replayed] == [(c.seq, "return") for c in calls]
    for got, want in zip(replayed, learned):
        if got.seq != 3:  # DRV_OPEN: an address, new every run; compared zero vs nonzero
            assert got.result == want.result, f"{dll} seq {got.seq}"


def test_msrle32_reads_the_rebuilt_icopen(wine_drivers):
    """Wine's msrle32 refuses an ICOPEN for a handler it does not know: the struct really arrives."""
    path = str(wine_drivers / "msrle32.dll")

    def open_with(payload2):
        call = HostCall(seq=1, thread=0, driver_id=0, hdrvr=H_INSTANCE, msg=DRV_OPEN, lparam1=0, lparam2=0,
                        payload2=payload2)
        return run_dll(path, [call])[0].result

    assert open_with(icopen("mrle", ICMODE_QUERY)) not in (0, 0xFFFF0000)
    assert open_with(icopen("xxxx", ICMODE_QUERY)) == 0
    assert open_with(None) == 0xFFFF0000  # Wine's msrle32: NULL lParam2 is a configure-only open
