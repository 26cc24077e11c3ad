"""`drvtape hook run` (issue 14): a program run with the hook in it has every driver it loads
recorded, however it loads it (by alias through Drivers32, by path, as an acmDriverAdd or
ICInstall function), each session replays 5 of 5 against the real DLL, the program's output
is what it is without the hook, and the prefix's registry and system.ini are untouched."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drvtape.dllhost import wine

WINE_DLL_FOLDER = "c:\\windows\\system32\\"


def drvtape(tmp_path, *args):
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "h.db"), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(tmp_path)  # the run's folder is made there
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def plain_run(*argv):
    command, env = wine.command(argv[0])
    return subprocess.run([*command, *argv[1:]], env=env, capture_output=True, text=True, timeout=300)


REGISTRY_FILES = ("system.reg", "user.reg", "userdef.reg")
SYSTEM_INI = "drive_c/windows/system.ini"


@pytest.fixture(scope="module")
def own_prefix(host, tmp_path_factory, monkeypatch_module):
    """A prefix only this module's runs use: no other test's registry change is saved into it
    while a run is compared."""
    monkeypatch_module.setenv(wine.PREFIX_ENV, str(tmp_path_factory.mktemp("hookprefix")))
    return wine.ensure_prefix()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def prefix_state(prefix) -> dict[tuple[str, str], tuple[str, ...]]:
    """(file, key) -> the key's value lines, once the prefix's server has saved what it holds
    (it saves changed keys when it is stopped); system.ini as one entry. A key's modification
    time (on its [key] line and in its #time= line) is left out: Wine 8.0 rewrites some keys at
    every program start, hook or not (checked: Software\\Wine\\Fonts, CurrentVersion, the display
    class's DriverDateData)."""
    subprocess.run([str(Path(wine.wine_binary()).with_name("wineserver")), "-k"], env=wine.wine_env(prefix),
                   capture_output=True, timeout=60)
    state: dict[tuple[str, str], list[str]] = {("system.ini", ""): [(prefix / SYSTEM_INI).read_text()]}
    for name in REGISTRY_FILES:
        key = ""
        for line in (prefix / name).read_text(encoding="utf-8", errors="surrogateescape").splitlines():
            if line.startswith("["):
                key = line[:line.rindex("]") + 1]
                state[(name, key)] = []
            elif not line.startswith("#time="):
                state.setdefault((name, key), []).append(line)
    return {k: tuple(v) for k, v in state.items()}


def changed(before: dict, after: dict) -> set:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def real_dll(header_driver: str, wine_drivers, built: str) -> str:
    """The DLL a session's driver path names, as a path here (Wine's own DLLs are in system32)."""
    if header_driver.lower().startswith(WINE_DLL_FOLDER):
        return str(wine_drivers / header_driver[len(WINE_DLL_FOLDER):])
    return built


@pytest.fixture
def ways(client, driver, wine_drivers, codec_client):
    """way: (argv of the program, the DLL the test built or chose)"""
    return {
        "alias": ([str(client), "vidc.mrle", "send", "9"], str(wine_drivers / "msrle32.dll")),
        "path": ([str(client), wine.windows_path(driver("thread_affinity")), "77", "88"], driver("thread_affinity")),
        "icinstall-function": ([str(client), str(wine_drivers / "msrle32.dll"), "vfw"],
                               str(wine_drivers / "msrle32.dll")),
        "acmdriveradd-function": ([str(client), wine.windows_path(driver("codec_stub")), "acmexit"],
                                  driver("codec_stub")),
        "alias-codec-client": ([str(codec_client), "roundtrip", "mrle", "64", "48", "3"],
                               str(wine_drivers / "msrle32.dll")),
    }


@pytest.mark.parametrize("way", ["alias", "path", "icinstall-function", "acmdriveradd-function"])
def test_each_way_of_loading_is_recorded_and_replays_5_of_5(tmp_path, ways, wine_drivers, own_prefix, way):
    argv, built = ways[way]
    before = prefix_state(own_prefix)
    command, env = wine.command(argv[0])
    subprocess.run([*command, *argv[1:]], env=wine.wine_env(own_prefix), capture_output=True, timeout=300)
    unhooked = prefix_state(own_prefix)
    run = drvtape(tmp_path, "hook", "run", "--prefix", str(own_prefix), "--json", "--", *argv)
    assert run.returncode == 0, (run.stdout, run.stderr)
    # the registry and system.ini: changed by the hooked run only where the same run unhooked changes them
    assert changed(unhooked, prefix_state(own_prefix)) <= changed(before, unhooked)
    doc = json.loads(run.stdout)
    sessions = [s for tape in doc["tapes"] for s in tape["sessions"]]
    assert doc["ingested"] == len(sessions) >= 1
    for session in sessions:
        assert session["calls"] > 0 and session["end_reason"] in ("closed", "process-exit")
        target = real_dll(session["driver"], wine_drivers, built)
        replayed = drvtape(tmp_path, "replay", session["session"], "--target", f"dll:{target}", "--repeat", "5",
                           "--json")
        assert replayed.returncode == 0, replayed.stderr
        assert json.loads(replayed.stdout)["reproduced_runs"] == 5, (way, session)


# the ways whose output holds no address (tapclient's OpenDriver modes print the HDRVR)
@pytest.mark.parametrize("way", ["icinstall-function", "acmdriveradd-function", "alias-codec-client"])
def test_the_program_prints_the_same_with_and_without_the_hook(tmp_path, ways, way):
    argv, _ = ways[way]
    plain = plain_run(*argv)
    hooked = drvtape(tmp_path, "hook", "run", "--", *argv)
    assert (hooked.returncode, plain.returncode) == (0, 0), (plain.stderr, hooked.stderr)
    assert plain.stdout and plain.stdout in hooked.stderr  # hook run passes the program's stdout to stderr
    assert "ingested" in hooked.stdout


def test_a_program_that_loads_no_driver_runs_unchanged(tmp_path, client):
    plain = plain_run(str(client))  # its usage: no driver is loaded
    hooked = drvtape(tmp_path, "hook", "run", "--", str(client))
    assert plain.returncode != 0
    assert hooked.returncode == plain.returncode, hooked.stderr
    assert f"note: {client} loaded no driver" in hooked.stderr
    assert hooked.stdout == ""


def test_driver_pattern_records_only_the_matching_drivers(tmp_path, ways):
    argv, _ = ways["path"]
    skipped = drvtape(tmp_path, "hook", "run", "--driver", "msrle*", "--json", "--", *argv)
    assert skipped.returncode == 0, skipped.stderr
    assert json.loads(skipped.stdout)["ingested"] == 0
    # compile_pe names it thread_affinity-<hash>.dll
    matched = drvtape(tmp_path, "hook", "run", "--driver", "THREAD_aff?nity-*.DLL", "--json", "--", *argv)
    assert json.loads(matched.stdout)["ingested"] == 1, matched.stderr


@pytest.mark.parametrize("bad, named", [(["--driver", "a/b"], "--driver"),
                                        (["--prefix", "/nonexistent/prefix"], "not a Wine prefix"),
                                        (["--format", "yaml"], "unknown format"),
                                        (["--db", "/nonexistent/dir/x.db"], "/nonexistent/dir")])
def test_a_bad_value_is_refused_before_anything_runs(tmp_path, client, bad, named):
    command = [sys.executable, "-m", "drvtape", *(bad if bad[0] == "--db" else ["--db", str(tmp_path / "h.db")]),
               "hook", "run", *(bad if bad[0] != "--db" else []), "--", str(client)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    run = subprocess.run(command, env={**env, "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and named in run.stderr, run.stderr
    assert not list(tmp_path.glob("drvtape-hookrun-*")), "a run folder was made"


# Wine 8.0's CreateProcessW says 2 (file not found) for a missing folder too
@pytest.mark.parametrize("program, why", [("C:\\no\\such.exe", "(Windows error 2)"),
                                          ("nosuch.exe", "(Windows error 2)"),
                                          ("C:\\windows\\win.ini", "C:\\windows\\win.ini (Windows error 193)")])
def test_a_program_that_cannot_start_is_one_line_saying_why(tmp_path, host, program, why):
    """hooklaunch's own 127 is told from a program's (its reason is in the run folder): exit 2,
    the reason in drvtape's one line, no note of drivers, no session stored."""
    run = drvtape(tmp_path, "hook", "run", "--", program)
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = [line for line in run.stderr.splitlines() if "building" not in line]
    assert len(lines) == 1 and lines[0].startswith(f"drvtape: error: {program}: cannot start it: "), lines
    assert lines[0].endswith(why), lines
    assert not list(tmp_path.glob("drvtape-hookrun-*")), "the run folder was left"
    assert json.loads(drvtape(tmp_path, "sessions", "--json").stdout) == []


def test_follow_children_records_the_drivers_of_a_child_process(tmp_path, client, driver):
    real = driver("thread_affinity")
    argv = [str(client), wine.windows_path(real), "child", "77", "88"]  # the child opens the driver
    unfollowed = drvtape(tmp_path, "hook", "run", "--json", "--", *argv)
    assert unfollowed.returncode == 0, unfollowed.stderr
    assert json.loads(unfollowed.stdout)["ingested"] == 0
    followed = drvtape(tmp_path, "hook", "run", "--follow-children", "--json", "--", *argv)
    assert followed.returncode == 0, followed.stderr
    (tape,) = json.loads(followed.stdout)["tapes"]
    (session,) = tape["sessions"]
    assert session["end_reason"] == "closed" and session["calls"] == 12
    replayed = drvtape(tmp_path, "replay", session["session"], "--target", f"dll:{real}", "--repeat", "5", "--json")
    assert json.loads(replayed.stdout)["reproduced_runs"] == 5, replayed.stderr


def test_a_crashing_program_is_recorded_to_its_crash(tmp_path, client, driver):
    argv = [str(client), wine.windows_path(driver("use_after_release")), "crash"]
    run = drvtape(tmp_path, "hook", "run", "--json", "--", *argv)
    assert run.returncode != 0, (run.stdout, run.stderr)
    (session,) = json.loads(run.stdout)["tapes"][0]["sessions"]
    assert session["end_reason"] == "crash"


def test_sigterm_stops_the_program_and_keeps_what_was_recorded(tmp_path, client, driver):
    """hooklaunch holds the program in a job that ends with it: stopping hook run stops the program."""
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "s.db"), "hook", "run", "--json", "--",
               str(client), wine.windows_path(driver("thread_affinity")), "stream"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(t.stat().st_size for t in tmp_path.glob("drvtape-hookrun-*/*.drvtape")):
        assert time.monotonic() < deadline, "no tape after 120 s"
        time.sleep(0.2)
    time.sleep(1)  # the client streams messages meanwhile
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    (session,) = json.loads(stdout)["tapes"][0]["sessions"]
    assert session["calls"] > 10


def test_a_program_killed_by_a_signal_is_said_so_and_what_it_recorded_is_stored(tmp_path, client, driver):
    """A Wine process ended by a Unix signal has no exit code to pass on: hook run exits 1 and says
    which signal (the job hooklaunch holds the program in ends with it, so the program ends too)."""
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "k.db"), "hook", "run", "--json", "--",
               str(client), wine.windows_path(driver("thread_affinity")), "stream"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(t.stat().st_size for t in tmp_path.glob("drvtape-hookrun-*/*.drvtape")):
        assert time.monotonic() < deadline, "no tape after 120 s"
        time.sleep(0.2)
    (launcher,) = [int(pid) for task in Path(f"/proc/{proc.pid}/task").iterdir()
                   for pid in (task / "children").read_text().split()]
    os.kill(launcher, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "was killed by SIGKILL: drvtape exits 1" in stderr, (stdout, stderr)
    (session,) = json.loads(stdout)["tapes"][0]["sessions"]
    assert session["calls"] > 0
