"""Replay speed through drvhost: serial messages per second against Wine's msrle32.dll."""
from __future__ import annotations

import os
from pathlib import Path

from drvtape.dllhost.client import run_host
from drvtape.formats.host_calls import HostCall

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


TAPCLIENT_SOURCE = Path(__file__).resolve().parents[2] / "tests" / "native" / "clients" / "tapclient.c"


def _client_bench(client: Path, driver: Path, n: int, env_extra: dict[str, str]) -> float:
    """ns per call that `tapclient DRIVER bench n` measured (DriverProc called directly)."""
    import re
    import subprocess

    from drvtape.errors import DrvtapeError

    from drvtape.dllhost import wine

    argv, env = wine.command(client)
    env = dict(env or os.environ)
    for name in ("DRVTAP_REAL", "DRVTAP_TAPE", "DRVTAP_FLUSH"):
        env.pop(name, None)
    env.update(env_extra)
    proc = subprocess.run([*argv, wine.windows_path(str(driver)), "bench", str(n)], env=env, capture_output=True,
                          text=True, timeout=600)
    found = re.search(r"([0-9.]+) ns/call", proc.stdout)
    if proc.returncode != 0 or not found:
        raise DrvtapeError(f"tapclient bench on {driver.name} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-200:]}")
    return float(found.group(1))


def bench_tap_overhead(n: int) -> dict:
    """The tap's added time per message: n DRV_USER+1 calls to msrle32's DriverProc called
    directly, then the same through drvtap.dll (which writes a call and a return record per
    message to a tape, flushed to the OS), both measured inside the process by the test
    client's bench mode (tests/native/clients/tapclient.c, so a source checkout is needed)."""
    import tempfile

    from drvtape.errors import DrvtapeError

    from drvtape.dllhost import wine
    from drvtape.dllhost.build import build_drvtap, compile_pe

    if not TAPCLIENT_SOURCE.is_file():
        raise DrvtapeError(f"the tap benchmark needs the test client's source ({TAPCLIENT_SOURCE}): "
                           "use a drvtape source checkout")
    n = max(int(n), 1000)
    client = compile_pe([TAPCLIENT_SOURCE], flags=["-municode"])
    tap = build_drvtap()
    direct = _client_bench(client, MSRLE32, n, {})
    with tempfile.TemporaryDirectory(prefix="drvtape-tapbench-") as tmp:
        tape = Path(tmp) / "bench.drvtape"
        tapped = _client_bench(client, tap, n, {"DRVTAP_REAL": wine.windows_path(str(MSRLE32)),
                                                "DRVTAP_TAPE": wine.windows_path(str(tape))})
        tape_bytes = tape.stat().st_size if tape.exists() else 0
    return {"dll": MSRLE32.name, "messages": n, "direct_ns_per_message": round(direct, 1),
            "tap_ns_per_message": round(tapped, 1), "added_ns_per_message": round(tapped - direct, 1),
            "tape_bytes_per_message": round(tape_bytes / n, 1)}
