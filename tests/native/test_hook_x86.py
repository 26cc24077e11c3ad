"""`drvtape hook run` and 32-bit programs: a 32-bit program runs in the 32-bit prefix with the
x86 hook, its drivers recorded and replayed 5 of 5 against the real 32-bit DLL, its output
the same as without the hook, winmm's device entry point lookups given the x86 tap's; and with
--follow-children an x64 program's 32-bit child gets the x86 hook (from the x86 hooklaunch,
which knows the 32-bit LoadLibraryW)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X86
from drvtape.dllhost.build import compile_pe

from tests.native.conftest import WINE_DRIVERS_X86

MIDI_CLIENT = Path(__file__).parent / "clients" / "midiclient.c"


@pytest.fixture(scope="module")
def wow64_prefix(host_x86, tmp_path_factory):
    """A fresh x64 prefix, made with wine32 installed: one made before cannot start 32-bit
    programs (checked: such a prefix's child says "could not load kernel32.dll, status c0000135")."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(wine.PREFIX_ENV, str(tmp_path_factory.mktemp("wow64")))
        yield wine.ensure_prefix()


def drvtape(tmp_path, *args, **env):
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "x.db"), *args]
    full = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    full.update(TMPDIR=str(tmp_path), **env)
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=300)


def only_session(run) -> dict:
    assert run.returncode == 0, (run.stdout, run.stderr)
    (session,) = [s for tape in json.loads(run.stdout)["tapes"] for s in tape["sessions"]]
    return session


def assert_replays_5_of_5(tmp_path, session, real):
    replayed = drvtape(tmp_path, "replay", session["session"], "--target", f"dll:{real}", "--repeat", "5", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["reproduced_runs"] == 5, replayed.stderr


def test_a_32_bit_program_is_recorded_with_the_x86_hook(tmp_path, client_x86, driver_x86):
    real = driver_x86("thread_affinity")
    session = only_session(drvtape(tmp_path, "hook", "run", "--json", "--", str(client_x86), wine.windows_path(real),
                                   "77", "88"))
    assert session["calls"] == 12 and session["end_reason"] == "closed"
    assert_replays_5_of_5(tmp_path, session, real)


def test_a_32_bit_program_prints_the_same_with_and_without_the_hook(tmp_path, client_x86, wine_drivers_x86):
    argv = [str(client_x86), str(wine_drivers_x86 / "msrle32.dll"), "vfw"]  # an ICInstall function
    command, env = wine.command(argv[0])
    plain = subprocess.run([*command, *argv[1:]], env=env, capture_output=True, text=True, timeout=300)
    hooked = drvtape(tmp_path, "hook", "run", "--json", "--", *argv)
    assert only_session(hooked)["calls"] > 0
    assert plain.returncode == 0 and plain.stdout and plain.stdout in hooked.stderr


def test_an_x64_programs_32_bit_child_is_followed_with_the_x86_hook(tmp_path, wow64_prefix, client, client_x86,
                                                                    driver_x86):
    real = driver_x86("thread_affinity")
    argv = [str(client), wine.windows_path(real), "child", "77", "88"]  # the 32-bit child opens the driver
    child = wine.windows_path(str(client_x86))
    unfollowed = drvtape(tmp_path, "hook", "run", "--json", "--", *argv, TAPCLIENT_CHILD=child)
    assert unfollowed.returncode == 0 and json.loads(unfollowed.stdout)["ingested"] == 0, unfollowed.stderr
    session = only_session(drvtape(tmp_path, "hook", "run", "--follow-children", "--json", "--", *argv,
                                   TAPCLIENT_CHILD=child))
    assert session["calls"] == 12 and session["end_reason"] == "closed"
    assert_replays_5_of_5(tmp_path, session, real)


def test_a_32_bit_programs_device_entry_points_get_the_x86_taps(tmp_path, host_x86):
    client = compile_pe([MIDI_CLIENT], flags=["-municode"], libs=["-lwinmm"], arch=X86)
    run = drvtape(tmp_path, "hook", "run", "--json", "--", str(client))
    assert run.returncode == 0, run.stderr
    (midimap,) = [s for tape in json.loads(run.stdout)["tapes"] for s in tape["sessions"]
                  if s["driver"].lower().endswith("\\midimap.dll")]
    events = drvtape(tmp_path, "events", midimap["session"], "--json")
    assert {e["entry_point"] for e in json.loads(events.stdout) if e["kind"] == "call"} == {"DriverProc", "modMessage"}
    replayed = drvtape(tmp_path, "replay", midimap["session"], "--target", f"dll:{WINE_DRIVERS_X86 / 'midimap.dll'}",
                       "--repeat", "5", "--json")  # its MODM_GETDEVCAPS memory in x86 layouts, in the x86 host
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["reproduced_runs"] == 5, replayed.stdout[-2000:]
