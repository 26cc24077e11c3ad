"""Replay speed through drvhost: serial messages per second against Wine's msrle32.dll."""
from __future__ import annotations

import os
from pathlib import Path

from .client import run_host
from .model import HostCall

# Debian's wine64 puts Wine's own drivers here; on Windows msrle32 is a system DLL.
MSRLE32 = (Path(os.environ.get("SystemRoot", "C:/Windows")) / "System32" / "msrle32.dll" if os.name == "nt"
           else Path("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/msrle32.dll"))
DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_QUERYCONFIGURE, DRV_USER = 1, 2, 3, 8, 0x4000
RECORDED_ID = 0x1234
ICOPEN_MRLE = {"type": "ICOPEN", "dwSize": 56, "fccType": 0x63646976, "fccHandler": 0x656C726D,  # vidc, mrle
               "dwVersion": 0x104, "dwFlags": 4, "dwError": 0, "dnDevNode": 0}


def bench_dll_replay(n: int) -> dict:
    """Open msrle32 (LOAD, ENABLE, OPEN with an ICOPEN), then n DRV_QUERYCONFIGURE/DRV_USER
    calls on that instance, serially; host start-up and DLL load excluded from the rate."""
    calls = [HostCall(1, 0, 0, 1, DRV_LOAD, 0, 0), HostCall(2, 0, 0, 1, DRV_ENABLE, 0, 0),
             HostCall(3, 0, 0, 1, DRV_OPEN, 0, 0, payload2=ICOPEN_MRLE, expect=RECORDED_ID)]
    calls += [HostCall(4 + i, 0, RECORDED_ID, 1, DRV_USER if i % 2 else DRV_QUERYCONFIGURE, 0, 0)
              for i in range(n)]
    run = run_host(str(MSRLE32), calls)
    returned = sum(r.kind == "return" for r in run.results)
    return {"dll": MSRLE32.name, "messages": len(calls), "returned": returned, "seconds": run.replay_s,
            "messages_per_s": len(calls) / run.replay_s}
