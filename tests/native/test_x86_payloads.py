"""The recorded DRV_* payloads (ICOPEN, ACMDRVOPENDESCW, DRVCONFIGINFO, strings) reach a
32-bit driver in its own layouts: the x86 drvhost gets them laid out with 4-byte pointers
(formats/host_memory.py), and the checksum test driver built as a 32-bit DLL hashes what
arrived. The same calls as the x64 test."""
from drvtape.dllhost import run_dll

from test_dllhost_remap_payloads import ACMOPEN, DRV_INSTALL, DRV_OPEN, DRV_USER, ICOPEN, call, fnv_words


def as_x86_lresult(value: int) -> int:
    """What a 32-bit DriverProc returning value gives: its low 32 bits, signed (LRESULT is a LONG)."""
    low = value & 0xFFFFFFFF
    return low - (1 << 32) if low & 0x80000000 else low


def test_payloads_are_rebuilt_in_the_x86_host_in_x86_layouts(driver_x86):
    text = "vidc.mrle — ünïcode ✓ 𝄞"
    blob = bytes(range(256)) * 3
    results = run_dll(driver_x86("checksum"), [
        call(1, DRV_OPEN, payload1={"type": "wstr", "text": text}, payload2={**ICOPEN, "dwSize": 36}),
        call(2, DRV_INSTALL, payload2={"type": "DRVCONFIGINFO", "section": "Drivers32", "alias": "vidc.mrle"}),
        call(3, DRV_USER, payload1={"type": "wstr", "text": ""}),
        call(4, DRV_USER + 1, payload2={**ACMOPEN, "cbStruct": 36}),
        call(5, DRV_USER + 2, lparam2=len(blob), payload1={"type": "bytes", "hex": blob.hex()}),
    ], stop_on_divergence=False)
    o = ICOPEN
    assert [r.result for r in results] == [as_x86_lresult(h) for h in (
        fnv_words(text, 36, o["fccType"], o["fccHandler"], o["dwVersion"], o["dwFlags"], o["dwError"], 0, 0,
                  o["dnDevNode"]),
        fnv_words(12, "Drivers32", "vidc.mrle"),  # DRVCONFIGINFO: 12 bytes on x86
        fnv_words(""),
        fnv_words(36, ACMOPEN["fccType"], 0, ACMOPEN["dwVersion"], 2, 0, "Drivers32", "msacm.imaadpcm", 9),
        fnv_words(*blob),
    )]
