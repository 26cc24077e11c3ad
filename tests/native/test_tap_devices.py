"""Device entry points through the tap (issue 13 item 2), under Wine: a wave and MIDI test
driver (tests/native/drivers/devices.c: DriverProc, wodMessage, modMessage) and Wine's own
midimap.dll (DriverProc, modMessage) driven by a client that loads them as winmm does
(tests/native/clients/deviceclient.c); the tap built for each exports exactly the real
driver's entry points, every entry point's messages land in one session with their memory,
and replay reproduces the session 5 of 5 with the memory the driver wrote compared."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, X86, Arch
from drvtape.dllhost.build import build_drvtap_for, compile_pe
from drvtape.dllhost.pe_exports import pe_exports
from drvtape.recorder.ingest import read_tape
from drvtape.schema.entry_points import DEVICE_ENTRY_POINTS

from tests.native.conftest import WINE_DRIVERS

CLIENT_SOURCE = Path(__file__).parent / "clients" / "deviceclient.c"
DEVICE_NAMES = {ep.value for ep in DEVICE_ENTRY_POINTS}
SAMPLES = bytes((i * 7 + i // 13) & 0xFF for i in range(4000))  # the buffer deviceclient.c plays


@pytest.fixture(scope="module")
def device_client(host) -> Path:
    return compile_pe([CLIENT_SOURCE], flags=["-municode"])


@pytest.fixture(scope="module")
def devices_driver(driver) -> Path:
    return Path(driver("devices"))


def run_client(client: Path, dll: Path, *args: str, real: Path | None = None,
               tape: Path | None = None) -> subprocess.CompletedProcess:
    argv, env = wine.command(client)
    env = {k: v for k, v in (env or os.environ).items() if not k.startswith("DRVTAP_")}
    if real is not None:
        env["DRVTAP_REAL"] = wine.windows_path(str(real))
        env["DRVTAP_TAPE"] = wine.windows_path(str(tape))
    run = subprocess.run([*argv, wine.windows_path(str(dll)), *args], env=env, capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def recorded(client: Path, real: Path, tmp_path: Path, *args: str, arch: Arch = X64) -> tuple[Path, str]:
    """The tape of one client run through the tap built for real, and the client's output."""
    tape = tmp_path / f"{real.stem}.drvtape"
    through = run_client(client, build_drvtap_for(real, arch), *args, real=real, tape=tape)
    return tape, through.stdout


def replay_5(db: Path, dll: Path) -> dict:
    run = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "replay", "last", "--target",
                          f"dll:{dll}", "--repeat", "5", "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_tap_exports_the_real_drivers_entry_points_and_no_other(device_client, devices_driver, tmp_path):
    tap = build_drvtap_for(devices_driver)
    assert pe_exports(tap) & DEVICE_NAMES == {"wodMessage", "modMessage"} == pe_exports(devices_driver) & DEVICE_NAMES
    tape, through = recorded(device_client, devices_driver, tmp_path)
    assert "widMessage missing" in through and "wodMessage exported" in through  # GetProcAddress on the tap
    assert through == run_client(device_client, devices_driver).stdout  # the same answers as without the tap


def test_every_entry_points_messages_are_one_session_and_replay_5_of_5(device_client, devices_driver, tmp_path,
                                                                       drvtape):
    tape, _ = recorded(device_client, devices_driver, tmp_path)
    (session,) = read_tape(tape).sessions
    calls = [ev for ev in session.events if ev.kind == "call"]
    assert [ev.entry_point.value for ev in calls].count("DriverProc") == 6  # LOAD ENABLE OPEN CLOSE DISABLE FREE
    assert {ev.entry_point.value for ev in calls} == {"DriverProc", "wodMessage", "modMessage"}
    write = next(ev for ev in calls if ev.entry_point.value == "wodMessage" and ev.msg == 9)  # WODM_WRITE
    data = next(b for b in write.memory if b.path == "lparam1.lpData")
    assert session.blobs[data.sha256] == SAMPLES  # the buffer the client played, as the driver read it
    db = tmp_path / "d.db"
    assert drvtape("--db", db, "ingest", tape).code == 0
    names = json.loads(drvtape("--db", db, "events", "last", "--json").stdout)
    shown = [e["msg_name"] for e in (names["events"] if isinstance(names, dict) else names) if e["kind"] == "call"]
    assert shown[3:6] == ["WODM_INIT", "WODM_GETNUMDEVS", "WODM_GETDEVCAPS"] and "MODM_LONGDATA" in shown
    report = replay_5(db, devices_driver)
    assert report["reproduced_runs"] == 5, report["distinct_outcomes"]
    assert report["outputs_compared"] > 0 and report["unknown_meaning_calls"] == 0


def test_lint_finds_a_wave_device_never_closed_before_drv_free(device_client, devices_driver, tmp_path, drvtape):
    db = tmp_path / "l.db"
    for args, folder in (((), "closed"), (("no-close",), "open")):
        (tmp_path / folder).mkdir()
        tape, _ = recorded(device_client, devices_driver, tmp_path / folder, *args)
        assert drvtape("--db", db, "ingest", tape).code == 0
    found = json.loads(drvtape("--db", db, "lint", "--all", "--json").stdout)
    assert found["linted"] == 2
    (with_findings,) = found["sessions"]  # the session that closed its device has none
    (finding,) = [f for f in with_findings["findings"] if f["rule"] == "free-with-open-device"]
    assert "wodMessage device 0" in finding["detail"] and "WODM_CLOSE" in finding["detail"]


def test_wines_midimap_through_the_tap_replays_5_of_5(device_client, host, tmp_path, drvtape):
    midimap = WINE_DRIVERS / "midimap.dll"
    if not midimap.is_file():
        pytest.fail(f"Wine's midimap.dll is not in {WINE_DRIVERS}")
    assert pe_exports(midimap) & DEVICE_NAMES == {"modMessage"}  # its PE export listing
    tape, through = recorded(device_client, midimap, tmp_path)
    assert "modMessage exported" in through and "wodMessage missing" in through
    (session,) = read_tape(tape).sessions
    assert {ev.entry_point.value for ev in session.events if ev.kind == "call"} == {"DriverProc", "modMessage"}
    db = tmp_path / "m.db"
    assert drvtape("--db", db, "ingest", tape).code == 0
    report = replay_5(db, midimap)
    assert report["reproduced_runs"] == 5, report["distinct_outcomes"]


def test_the_x86_tap_exports_and_records_the_stdcall_entry_points(host_x86, driver_x86, tmp_path):
    real = Path(driver_x86("devices"))
    client = compile_pe([CLIENT_SOURCE], flags=["-municode"], arch=X86)
    assert pe_exports(build_drvtap_for(real, X86)) & DEVICE_NAMES == {"wodMessage", "modMessage"}  # undecorated
    tape, through = recorded(client, real, tmp_path, arch=X86)
    assert through == run_client(client, real).stdout
    (session,) = read_tape(tape).sessions
    assert {ev.entry_point.value for ev in session.events if ev.kind == "call"} == {"DriverProc", "wodMessage",
                                                                                   "modMessage"}
