"""`drvtape demo` as a new user runs it: in a fresh folder, through the console script."""

import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("bug", ["exit-spin", "use-after-release"])
def test_demo_records_shows_and_replays_a_shutdown_bug(tmp_path, bug):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "drvtape", "demo", "--bug", bug], cwd=tmp_path,
                          capture_output=True, text=True)
    took = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert took < 15
    out = proc.stdout
    assert (tmp_path / "drvtape.db").is_file()
    assert "reproduced: 5 of 5 run(s)" in out
    assert "NOT reproduced: 0 of 1 run(s)" in out and "first divergence:" in out
    assert "DRV_EXITSESSION" in out
    typed = out.split("to type next:")[1].split("\n")
    assert any(line.strip().startswith("drvtape replay last --target sim:reference") for line in typed)
    # the session it stored replays again from a fresh process: the printed commands work
    again = subprocess.run([sys.executable, "-m", "drvtape", "replay", "last", "--repeat", "2"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert again.returncode == 0 and "reproduced: 2 of 2" in again.stdout


def test_console_script_runs(tmp_path):
    # The script pip installed beside this interpreter, as a user of that environment runs it;
    # not whatever `drvtape` happens to be on PATH (there may be none).
    script = Path(sysconfig.get_path("scripts")) / ("drvtape.exe" if sys.platform == "win32" else "drvtape")
    assert script.is_file(), f"no console script at {script}: is drvtape installed in this environment?"
    proc = subprocess.run([str(script), "demo"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
