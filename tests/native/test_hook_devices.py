"""`drvtape hook run` and the device entry points winmm looks up in its MMDRV drivers (issue 14
item 2): a MIDI client (tests/native/clients/midiclient.c) makes Wine 8.0's winmm load its
MIDI mapper (midimap.dll: modMessage), its wave mapper (msacm32.drv: wodMessage, widMessage)
and the audio driver; each gets a session with its DriverProc's and its device entry points'
calls, and replays 5 of 5 against the real DLL; the client prints the same with the hook."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe

WINE_DLL_FOLDER = "c:\\windows\\system32\\"
MAPPERS = {"midimap.dll": {"DriverProc", "modMessage"}, "msacm32.drv": {"DriverProc", "wodMessage", "widMessage"}}


@pytest.fixture(scope="module")
def midi_client(host) -> Path:
    return compile_pe([Path(__file__).parent / "clients" / "midiclient.c"], flags=["-municode"], libs=["-lwinmm"])


def drvtape(tmp_path, *args):
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "d.db"), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(tmp_path)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_winmms_device_entry_points_are_recorded_and_replay_5_of_5(tmp_path, midi_client, wine_drivers):
    command, env = wine.command(midi_client)
    plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    hooked = drvtape(tmp_path, "hook", "run", "--json", "--", str(midi_client))
    assert hooked.returncode == 0, hooked.stderr
    assert plain.returncode == 0 and plain.stdout and plain.stdout in hooked.stderr
    sessions = {s["driver"].lower().removeprefix(WINE_DLL_FOLDER): s
                for tape in json.loads(hooked.stdout)["tapes"] for s in tape["sessions"]}
    assert set(MAPPERS) <= set(sessions), sessions
    for name, entry_points in MAPPERS.items():
        events = drvtape(tmp_path, "events", sessions[name]["session"], "--json")
        assert events.returncode == 0, events.stderr
        assert {e["entry_point"] for e in json.loads(events.stdout) if e["kind"] == "call"} == entry_points
    for name, session in sessions.items():
        replayed = drvtape(tmp_path, "replay", session["session"], "--target", f"dll:{wine_drivers / name}",
                           "--repeat", "5", "--json")
        assert replayed.returncode == 0, replayed.stderr
        assert json.loads(replayed.stdout)["reproduced_runs"] == 5, (name, replayed.stdout[-2000:])
