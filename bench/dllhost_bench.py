"""Replay speed through drvhost (serial messages per second against Wine's msrle32.dll), the
recording tap's cost per message and per record, and what `drvtape tap run` adds to a run."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.build import build_drvtap, compile_pe
from drvtape.dllhost.client import run_host
from drvtape.errors import DrvtapeError
from drvtape.formats.host_calls import HostCall
from drvtape.formats.tape import frames

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


REPO = Path(__file__).resolve().parents[1]
TAPCLIENT_SOURCE = REPO / "tests" / "native" / "clients" / "tapclient.c"
# The tap as it was before the mapped tape (one WriteFile per record under a lock), built
# from git for the comparison: the last main commit with that writer.
WRITEFILE_TAP = "712d5a2"
WRITEFILE_TAP_FILES = ("native/drvtap/drvtap.c", "native/drvtap/drvtap.h")
TARGET_NS_PER_RECORD = 600
RECORDS_PER_MESSAGE = 2  # a CALL before forwarding, a RETURN after


def _client_bench(client: Path, driver: Path, n: int, tape: Path | None) -> float:
    """ns per call that `tapclient DRIVER bench n` measured (DriverProc called directly)."""
    argv, env = wine.command(client)
    env = dict(env or os.environ)
    for name in ("DRVTAP_REAL", "DRVTAP_TAPE", "DRVTAP_FLUSH"):
        env.pop(name, None)
    if tape is not None:
        env.update(DRVTAP_REAL=wine.windows_path(str(MSRLE32)), DRVTAP_TAPE=wine.windows_path(str(tape)))
    proc = subprocess.run([*argv, wine.windows_path(str(driver)), "bench", str(n)], env=env, capture_output=True,
                          text=True, timeout=600)
    found = re.search(r"([0-9.]+) ns/call", proc.stdout)
    if proc.returncode != 0 or not found:
        raise DrvtapeError(f"tapclient bench on {driver.name} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-200:]}")
    return float(found.group(1))


def _writefile_tap(folder: Path) -> Path:
    """drvtap.dll as of WRITEFILE_TAP (needs git and this checkout's history)."""
    for name in WRITEFILE_TAP_FILES:
        shown = subprocess.run(["git", "-C", str(REPO), "show", f"{WRITEFILE_TAP}:{name}"], capture_output=True,
                               timeout=60)
        if shown.returncode != 0:
            raise DrvtapeError(f"git show {WRITEFILE_TAP}:{name} failed: {shown.stderr.decode(errors='replace')[-200:]}")
        (folder / Path(name).name).write_bytes(shown.stdout)
    return compile_pe([folder / "drvtap.c"], dll=True)


def _per_record(tap_ns: float, direct_ns: float) -> float:
    return round((tap_ns - direct_ns) / RECORDS_PER_MESSAGE, 1)


def bench_tap_overhead(n: int) -> dict:
    """The tap's added time per message and per record, in one run: n DRV_USER+1 calls to
    msrle32's DriverProc called directly, through drvtap.dll (records stored into a mapped
    view of the tape), and through the previous drvtap (a WriteFile per record), each measured
    inside the process by the test client's bench mode (tests/native/clients/tapclient.c, so
    a source checkout is needed)."""
    if not TAPCLIENT_SOURCE.is_file():
        raise DrvtapeError(f"the tap benchmark needs the test client's source ({TAPCLIENT_SOURCE}): "
                           "use a drvtape source checkout")
    n = max(int(n), 1000)
    client = compile_pe([TAPCLIENT_SOURCE], flags=["-municode"])
    with tempfile.TemporaryDirectory(prefix="drvtape-tapbench-") as tmp:
        folder = Path(tmp)
        direct = _client_bench(client, MSRLE32, n, None)
        mapped = _client_bench(client, build_drvtap(), n, folder / "mapped.drvtape")
        tape_bytes = sum(8 + len(body) for _, body in frames((folder / "mapped.drvtape").read_bytes(), []))
        try:
            writefile: float | str = _client_bench(client, _writefile_tap(folder), n, folder / "writefile.drvtape")
        except DrvtapeError as exc:
            writefile = str(exc)
    per_record = _per_record(mapped, direct)
    out = {"dll": MSRLE32.name, "messages": n, "direct_ns_per_message": round(direct, 1),
           "tap_ns_per_message": round(mapped, 1), "added_ns_per_message": round(mapped - direct, 1),
           "tap_ns_per_record": per_record, "target_ns_per_record": TARGET_NS_PER_RECORD,
           "meets_target": per_record <= TARGET_NS_PER_RECORD,
           "tape_bytes_per_message": round(tape_bytes / n, 1)}  # records only: not the unused chunk tail
    if isinstance(writefile, str):
        out["writefile_error"] = writefile
    else:
        out.update(writefile_tap_ns_per_message=round(writefile, 1),
                   writefile_ns_per_record=_per_record(writefile, direct))
    return out


TAP_RUN_ALIAS = "vidc.drvtapebench"  # a new alias: it goes into the registry and is deleted after
TAP_RUN_TRIALS = 3


def _seconds(argv: list[str], env: dict | None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise DrvtapeError(f"{Path(argv[0]).name} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-200:]}")
    return took


def bench_tap_run(trials: int = TAP_RUN_TRIALS) -> dict:
    """Wall time of `tapclient msrle32 send 8` (open, DRV_QUERYCONFIGURE, close) run alone under
    Wine, and of the same through `drvtape tap run` (install, the run, uninstall, ingest into a
    fresh database); the median of TRIALS each."""
    client = compile_pe([TAPCLIENT_SOURCE], flags=["-municode"])
    build_drvtap()  # built once, outside the timing
    argv, env = wine.command(client)
    alone = [_seconds([*argv, wine.windows_path(str(MSRLE32)), "send", "8"], env) for _ in range(trials)]
    through = []
    with tempfile.TemporaryDirectory(prefix="drvtape-taprunbench-") as tmp:
        for i in range(trials):
            through.append(_seconds([sys.executable, "-m", "drvtape", "--db", str(Path(tmp) / f"{i}.db"), "tap", "run",
                                     "--alias", TAP_RUN_ALIAS, "--real", str(MSRLE32), "--",
                                     str(client), TAP_RUN_ALIAS, "send", "8"], None))
    alone_s, through_s = statistics.median(alone), statistics.median(through)
    return {"trials": trials, "client_alone_s": round(alone_s, 2), "tap_run_s": round(through_s, 2),
            "tap_run_overhead_s": round(through_s - alone_s, 2)}
