"""Long commands show progress on stderr when it is a terminal, and are silent otherwise or with --quiet."""

import subprocess
import sys
from importlib import resources

import pytest
from cli_runner import on_a_terminal


@pytest.fixture
def recorded(tmp_path):
    db = tmp_path / "p.db"
    workload = resources.files("drvtape") / "workloads" / "use-after-release.toml"
    subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "record", "--target", "sim:use-after-release",
                    "--workload", str(workload)], check=True, capture_output=True)
    return db


def stderr_on_a_terminal(*args) -> tuple[int, str]:
    """Run drvtape with stderr on a pseudo-terminal; what it wrote there."""
    return on_a_terminal(*args, stream="stderr")


@pytest.mark.parametrize("command", [["replay", "last", "--target", "recorded", "--repeat", "300"],
                                     ["minimize", "last", "--target", "recorded"]])
def test_progress_shows_on_a_terminal_and_not_with_quiet_or_a_pipe(recorded, command):
    code, shown = stderr_on_a_terminal("--db", str(recorded), *command)
    assert code == 0 and ("replaying" in shown or "minimizing" in shown)
    code, quiet = stderr_on_a_terminal("--db", str(recorded), *command, "--quiet")
    assert code == 0 and quiet == ""
    piped = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(recorded), *command], capture_output=True,
                           text=True)
    assert piped.returncode == 0 and piped.stderr == ""
