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
from drvtape.dllhost.client import host_batch, run_batch, run_host
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


def _msrle_session(n: int, threads: int, expects: dict[int, int] | None) -> list[HostCall]:
    """Open msrle32 (LOAD, ENABLE, OPEN with an ICOPEN) on thread 0, then n DRV_QUERYCONFIGURE/
    DRV_USER calls on that instance dealt round-robin to `threads` threads, each after the
    previous call's return (a recording of strictly alternating threads: every call is a
    hand-over); expects[msg] is each one's recorded result."""
    calls = [HostCall(1, 0, 0, 1, DRV_LOAD, 0, 0, expect=1), HostCall(2, 0, 0, 1, DRV_ENABLE, 0, 0, expect=1),
             HostCall(3, 0, 0, 1, DRV_OPEN, 0, 0, payload2=ICOPEN_MRLE, expect=RECORDED_ID)]
    for i in range(n):
        msg = DRV_USER if i % 2 else DRV_QUERYCONFIGURE
        calls.append(HostCall(4 + i, i % threads, RECORDED_ID, 1, msg, 0, 0, expect=(expects or {}).get(msg),
                              after=(2 + i,) if threads > 1 else (), id_from=2))
    return calls


def _learned_expects() -> dict[int, int]:
    """What msrle32 answers the session's messages (LOAD and ENABLE too), from a short run."""
    learned = run_host(str(MSRLE32), _msrle_session(2, 1, None), stop_on_divergence=False).results
    assert [r.kind for r in learned] == ["return"] * 5, learned
    return {DRV_QUERYCONFIGURE: learned[3].result, DRV_USER: learned[4].result}


def _replay_rate(calls: list[HostCall], **options) -> dict:
    """One run of the calls as `drvtape replay` makes each of its runs: the batch encoded and
    written first (once for all of a --repeat's runs), then a host that reads and runs it."""
    started = time.perf_counter()
    with host_batch(str(MSRLE32), calls) as batch:
        prepare_s = time.perf_counter() - started
        run = run_batch(batch, **options)
    failed = [r for r in run.results if r.kind != "return"]
    returned = (run.issued or 0) - len(failed) if options.get("only_differences") else len(run.results) - len(failed)
    return {"messages": len(calls), "returned": returned, "results_sent": len(run.results),
            "seconds": round(run.replay_s, 4), "messages_per_s": round(len(calls) / run.replay_s, 1),
            "prepare_seconds": round(prepare_s, 4),
            "with_prepare_messages_per_s": round(len(calls) / (prepare_s + run.replay_s), 1)}


def _load_1m() -> float | None:
    """The 1-minute load average (None on Windows, which has none)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def bench_dll_replay(n: int) -> dict:
    """Replay through drvhost as `replay` does (the host compares, sends back differences):
    serially, beside the same session with every result sent back (what minimize and explore
    read), and thread-faithfully on 4 threads; host start-up and DLL load excluded from each
    rate, and the batch's encoding too (beside it: with_prepare_*, the encoding a replay
    does once for all its runs counted in). The baselines: msrle32's DriverProc called in a C
    loop under Wine (the test client's bench mode), when the source checkout has it; for 4
    threads, a bare baton handing a turn between 4 threads as many times (bench/thread_baton.c)."""
    load_at_start = _load_1m()  # the machine is shared: how busy it was says how to read these
    expects = _learned_expects()
    out = {"dll": MSRLE32.name, **_replay_rate(_msrle_session(n, 1, expects), only_differences=True)}
    out["every_result_sent"] = _replay_rate(_msrle_session(n, 1, expects))
    out["faithful_4_threads"] = _replay_rate(_msrle_session(n, 4, expects), only_differences=True)
    out["faithful_4_threads"]["baton_handoffs_per_s"] = _baton_rate(4, n)
    if TAPCLIENT_SOURCE.is_file():
        client = compile_pe([TAPCLIENT_SOURCE], flags=["-municode"])
        out["c_loop_messages_per_s"] = round(1e9 / _client_bench(client, MSRLE32, max(n, 1000), None), 1)
    out["load_average_1m"] = [load_at_start, _load_1m()]  # at the start and end of this figure
    return out


REPO = Path(__file__).resolve().parents[1]
THREAD_BATON_SOURCE = Path(__file__).resolve().parent / "thread_baton.c"


def _baton_rate(threads: int, n: int) -> float:
    """Hand-overs per second of bench/thread_baton.c under Wine: `threads` threads, n turns."""
    argv, env = wine.command(compile_pe([THREAD_BATON_SOURCE]))
    proc = subprocess.run([*argv, str(threads), str(n)], env=env, capture_output=True, text=True, timeout=600)
    found = re.search(r"([0-9.]+) handovers/s", proc.stdout)
    if proc.returncode != 0 or not found:
        raise DrvtapeError(f"thread_baton failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-200:]}")
    return float(found.group(1))
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
