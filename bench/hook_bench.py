"""The hook's cost per message beside the tap's (issue 14): n DRV_USER+1 messages sent through
winmm's SendDriverMessage to msrle32 opened by path, measured inside the process by the test
client's sendbench mode (tests/native/clients/tapclient.c, so a source checkout is needed):
- winmm to msrle32, no recording (the baseline);
- winmm to drvtap.dll opened by path, forwarding to msrle32 (the tap);
- winmm to msrle32 in a program started by hooklaunch (the hook: the thunk winmm is given is
  a copy of the same tap, so the figure should be the tap's)."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from dllhost_bench import MSRLE32, TAPCLIENT_SOURCE
from drvtape.dllhost import wine
from drvtape.dllhost.build import build_drvtap, build_hooklaunch, compile_pe
from drvtape.errors import DrvtapeError
from drvtape.recorder.hookrun import prepare_folder


def _send_bench(argv: list[str], n: int, **tap_env: str) -> float:
    command, env = wine.command(Path(argv[0]))
    env = {k: v for k, v in (env or os.environ).items() if not k.startswith("DRVTAP_")}
    env.update(tap_env)
    proc = subprocess.run([*command, *argv[1:], "sendbench", str(n)], env=env, capture_output=True, text=True,
                          timeout=600)
    found = re.search(r"^sendbench \d+ calls ([0-9.]+) ns/call", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        raise DrvtapeError(f"tapclient sendbench failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-200:]}")
    return float(found.group(1))


def bench_hook(n: int) -> dict:
    """ns per message through winmm: unrecorded, through the tap, through the hook."""
    if not TAPCLIENT_SOURCE.is_file():
        raise DrvtapeError(f"the hook benchmark needs the test client's source ({TAPCLIENT_SOURCE}): "
                           "use a drvtape source checkout")
    n = max(int(n), 10_000)
    client = str(compile_pe([TAPCLIENT_SOURCE], flags=["-municode"]))
    real = wine.windows_path(str(MSRLE32))
    with tempfile.TemporaryDirectory(prefix="drvtape-hookbench-") as tmp:
        plain = _send_bench([client, real], n)
        tapped = _send_bench([client, wine.windows_path(str(build_drvtap()))], n, DRVTAP_REAL=real,
                             DRVTAP_TAPE=wine.windows_path(str(Path(tmp) / "tap.drvtape")))
        folder = prepare_folder(None, work_dir=Path(tmp))
        hooked = _send_bench([str(build_hooklaunch()), wine.windows_path(str(folder / "drvhook.dll")), client, real], n)
        tapes = sorted(folder.glob("*.drvtape"))
    if len(tapes) != 1:
        raise DrvtapeError(f"the hook wrote {len(tapes)} tapes for one driver")
    return {"dll": MSRLE32.name, "messages": n, "winmm_ns_per_message": round(plain, 1),
            "tap_ns_per_message": round(tapped, 1), "hook_ns_per_message": round(hooked, 1),
            "tap_added_ns_per_message": round(tapped - plain, 1),
            "hook_added_ns_per_message": round(hooked - plain, 1)}
