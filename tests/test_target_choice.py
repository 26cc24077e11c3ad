"""A session never names the code replay runs (issue 18, item 1; issue 11, item 7): without
--target, replay, minimize and explore refuse with one line naming the recorded target;
`--target recorded` is the user's yes, and a recorded Windows path is found through Wine's
drive letters."""
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay.target_choice import choose_target, local_dll_path

NOTES = """
import pathlib
pathlib.Path("notes-ran").write_text("imported")
def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):
    return 1
"""


def drvtape(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(cwd / "c.db"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def crafted_session(tmp_path: Path, target: str) -> None:
    """A session recorded against sim:reference, its header rewritten to name TARGET, imported."""
    workload = resources.files("drvtape") / "workloads" / "exit-spin.toml"
    assert drvtape(tmp_path, "--db", str(tmp_path / "orig.db"), "record", "--target", "sim:reference",
                   "--workload", str(workload)).returncode == 0
    exported = drvtape(tmp_path, "--db", str(tmp_path / "orig.db"), "export", "last").stdout.splitlines()
    header = json.loads(exported[0])
    header["target"] = target
    (tmp_path / "crafted.jsonl").write_text("\n".join([json.dumps(header), *exported[1:]]) + "\n")
    imported = drvtape(tmp_path, "import", str(tmp_path / "crafted.jsonl"))
    assert imported.returncode == 0, imported.stderr


@pytest.mark.parametrize("target", ["py:notes:DriverProc", "dll:some.dll"])
@pytest.mark.parametrize("command", [["replay", "last"], ["minimize", "last"], ["explore", "last", "--budget", "5"]])
def test_a_crafted_session_runs_nothing_without_target(tmp_path, target, command):
    crafted_session(tmp_path, target)
    (tmp_path / "notes.py").write_text(NOTES)
    (tmp_path / "some.dll").write_bytes(b"MZ")
    run = drvtape(tmp_path, *command)
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr
    assert target in run.stderr and "--target recorded" in run.stderr
    assert not (tmp_path / "notes-ran").exists()


def test_target_recorded_runs_the_stored_target_when_the_user_says_so(tmp_path):
    crafted_session(tmp_path, "py:notes:DriverProc")
    (tmp_path / "notes.py").write_text(NOTES)
    drvtape(tmp_path, "replay", "last", "--target", "recorded")
    assert (tmp_path / "notes-ran").exists()


def test_a_recorded_windows_path_is_found_through_wines_drive_letters(tmp_path, monkeypatch):
    if os.name == "nt":
        pytest.skip("Windows paths are used as they are on Windows")
    monkeypatch.setenv("DRVTAPE_WINEPREFIX", str(tmp_path / "noprefix"))
    real = tmp_path / "drv.dll"
    real.write_bytes(b"MZ")
    windows = "Z:" + str(real).replace("/", "\\")
    assert local_dll_path(windows) == real
    assert choose_target("recorded", f"dll:{windows}").name == str(real)
    with pytest.raises(DrvtapeError, match=r"looked for it at .*gone\.dll.*--target dll:PATH"):
        choose_target("recorded", "dll:Z:\\no\\such\\gone.dll")
    with pytest.raises(DrvtapeError, match="--target recorded"):
        choose_target(None, f"dll:{windows}")
    assert choose_target("sim:reference", "dll:whatever").spec == "sim:reference"
