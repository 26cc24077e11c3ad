"""The host maps recorded driver ids to this run's, and rebuilds pointer payloads in its memory."""
from __future__ import annotations

import pytest

from drvtape.dllhost import HostCall, run_dll
from drvtape.formats.host_memory import MAX_PAYLOAD, payload_image
from drvtape.errors import DrvtapeError

DRV_OPEN, DRV_CLOSE, DRV_INSTALL, DRV_USER = 3, 4, 9, 0x4000
RECORDED_A, RECORDED_B, UNKNOWN = 0x7777_0000_0001, 0x7777_0000_0002, 0x5555


def call(seq, msg, driver_id=0, lparam1=0, lparam2=0, **kw) -> HostCall:
    return HostCall(seq=seq, thread=0, driver_id=driver_id, hdrvr=0x10, msg=msg,
                    lparam1=lparam1, lparam2=lparam2, **kw)


def test_calls_after_an_open_reach_the_driver_with_this_runs_id(driver):
    """fresh_id's DRV_USER answers 1 for ids it handed out in this process, DRV_USER+1 echoes the id."""
    results = run_dll(driver("fresh_id"), [
        call(1, DRV_OPEN, expect=RECORDED_A),
        call(2, DRV_OPEN, expect=RECORDED_B),
        call(3, DRV_USER, RECORDED_A, expect=1),
        call(4, DRV_USER, RECORDED_B, expect=1),
        call(5, DRV_USER, UNKNOWN, expect=0),  # unknown ids pass unchanged
        call(6, DRV_USER + 1, RECORDED_B),
        call(7, DRV_USER + 1, UNKNOWN),
        call(8, DRV_CLOSE, RECORDED_A, expect=1),
    ])
    assert [r.result for r in results][2:5] == [1, 1, 0]
    opened_b = results[1].result
    assert opened_b not in (0, RECORDED_B)
    assert results[5].result == opened_b
    assert results[6].result == UNKNOWN


def test_a_divergence_stops_the_replay(driver):
    results = run_dll(driver("fresh_id"), [
        call(1, DRV_OPEN, expect=RECORDED_A),
        call(2, DRV_USER, UNKNOWN, expect=1),  # the driver answers 0
        call(3, DRV_USER, RECORDED_A, expect=1),
    ])
    assert [(r.seq, r.result) for r in results][1:] == [(2, 0)]


def fnv_words(*words: int | str | None) -> int:
    """checksum.c's hash: FNV-1a 64 over 64-bit words; a string is its UTF-16 units then an
    end mark, None a NULL mark. The driver returns it shifted right by one."""
    h = 0xCBF29CE484222325

    def mix(v):
        nonlocal h
        for _ in range(8):
            h = ((h ^ (v & 0xFF)) * 0x100000001B3) & (2**64 - 1)
            v >>= 8

    for w in words:
        if w is None:
            mix(0xDEAD)
        elif isinstance(w, str):
            units = w.encode("utf-16-le")
            for i in range(0, len(units), 2):
                mix(int.from_bytes(units[i:i + 2], "little"))
            mix(2**64 - 1)
        else:
            mix(w & (2**64 - 1))
    return h >> 1


ICOPEN = {"type": "ICOPEN", "dwSize": 56, "fccType": 0x63646976, "fccHandler": 0x656C726D,
          "dwVersion": 0x104, "dwFlags": 4, "dwError": -7, "dnDevNode": 0x1234}
ACMOPEN = {"type": "ACMDRVOPENDESCW", "cbStruct": 48, "fccType": 0x63647561, "fccComp": 0,
           "dwVersion": 0x03320000, "dwFlags": 2, "dwError": 0, "section": "Drivers32",
           "alias": "msacm.imaadpcm", "dnDevNode": 9}


def test_payloads_are_rebuilt_in_the_host(driver):
    text = "vidc.mrle — ünïcode ✓ 𝄞"
    blob = bytes(range(256)) * 3
    results = run_dll(driver("checksum"), [
        call(1, DRV_OPEN, payload1={"type": "wstr", "text": text}, payload2=ICOPEN),
        call(2, DRV_INSTALL, payload2={"type": "DRVCONFIGINFO", "section": "Drivers32", "alias": None}),
        call(3, DRV_USER, payload1={"type": "wstr", "text": ""}),
        call(4, DRV_USER + 1, payload2=ACMOPEN),
        call(5, DRV_USER + 2, lparam2=len(blob), payload1={"type": "bytes", "hex": blob.hex()}),
    ], stop_on_divergence=False)
    o = ICOPEN
    assert [r.result for r in results] == [
        fnv_words(text, o["dwSize"], o["fccType"], o["fccHandler"], o["dwVersion"], o["dwFlags"],
                  o["dwError"], 0, 0, o["dnDevNode"]),
        fnv_words(20, "Drivers32", None),  # DRVCONFIGINFO is byte-packed: 20 bytes on x64
        fnv_words(""),
        fnv_words(48, ACMOPEN["fccType"], 0, ACMOPEN["dwVersion"], 2, 0, "Drivers32", "msacm.imaadpcm", 9),
        fnv_words(*blob),
    ]


def test_payloads_over_the_cap_and_unknown_types_are_refused():
    with pytest.raises(DrvtapeError, match="cap"):
        payload_image({"type": "bytes", "hex": "00" * (MAX_PAYLOAD + 1)})
    with pytest.raises(DrvtapeError, match="WAVEFORMATEX"):
        payload_image({"type": "WAVEFORMATEX"})
    with pytest.raises(DrvtapeError, match="ICOPEN"):
        payload_image({"type": "ICOPEN", "dwSize": 56})
