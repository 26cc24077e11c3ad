"""`drvtape demo` as a new user runs it: in a fresh folder, through the console script."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from drvtape.cli.launcher import console_script


def path_with(folder: Path | None) -> dict[str, str]:
    """The environment with PATH holding folder and none of the folders a drvtape is in."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "drvtape").exists()]
    return {**os.environ, "PATH": os.pathsep.join(([str(folder)] if folder else []) + dirs)}


def typed_next(out: str) -> list[str]:
    return [line.strip() for line in out.split("to type next:")[1].splitlines() if line.strip()]


@pytest.mark.parametrize("bug", ["exit-spin", "use-after-release"])
def test_demo_records_shows_and_replays_a_shutdown_bug(tmp_path, bug):
    # as after `. .venv/bin/activate`: this environment's scripts are on PATH
    activated = path_with(Path(sysconfig.get_path("scripts")))
    proc = subprocess.run([sys.executable, "-m", "drvtape", "demo", "--bug", bug], cwd=tmp_path,
                          capture_output=True, text=True, env=activated)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert (tmp_path / "drvtape.db").is_file()
    assert "reproduced: 5 of 5 run(s)" in out
    assert "NOT reproduced: 0 of 1 run(s)" in out and "first divergence:" in out
    assert "DRV_EXITSESSION" in out
    typed = typed_next(out)
    assert any(line.strip().startswith("drvtape replay last --target sim:reference") for line in typed)
    # the session it stored replays again from a fresh process: the printed commands work
    again = subprocess.run([sys.executable, "-m", "drvtape", "replay", "last", "--target", "recorded", "--repeat", "2"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert again.returncode == 0 and "reproduced: 2 of 2" in again.stdout


def test_console_script_runs(tmp_path):
    # The script pip installed beside this interpreter, as a user of that environment runs it;
    # not whatever `drvtape` happens to be on PATH (there may be none).
    script = Path(sysconfig.get_path("scripts")) / ("drvtape.exe" if sys.platform == "win32" else "drvtape")
    assert script.is_file(), f"no console script at {script}: is drvtape installed in this environment?"
    proc = subprocess.run([str(script), "demo"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_printed_commands_run_as_printed_where_drvtape_is_not_on_path(tmp_path):
    script = console_script()
    assert script is not None, "drvtape is not installed in this environment"
    bare = path_with(None)
    assert shutil.which("drvtape", path=bare["PATH"]) is None
    proc = subprocess.run([str(script), "demo"], cwd=tmp_path, capture_output=True, text=True, env=bare)
    assert proc.returncode == 0, proc.stderr
    typed = typed_next(proc.stdout)
    assert typed and not any(line.startswith("drvtape ") for line in typed)
    for line in typed:
        run = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True, text=True, env=bare)
        assert run.returncode == (1 if line.endswith("--target sim:reference") else 0), (line, run.stderr)
