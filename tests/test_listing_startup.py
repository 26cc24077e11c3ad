"""What a new process running `drvtape sessions` does before it lists (issue 16 item 4),
checked by what it loaded and set up, never by how long it took: the replay runtime
(drvtape.runtime, once brought in by cli/options.py) stays out, the C insert path's probe
(an in-memory SQLite connection) is not opened by a command that only reads, and a program
run freezes its imports' objects out of the garbage collector's sweeps while an in-process
caller of main() is left as it was."""

import json
import subprocess
import sys

import pytest

from test_listing_output import varied_store

NOT_FOR_LISTING = ("drvtape.runtime", "drvtape.replay", "drvtape.recorder", "drvtape.dllhost", "rich.progress")
# Runs drvtape as the program (argv from sys.argv) or as a caller of main(ARGS); then writes
# what it loaded to the file named first.
PROBE = """
import gc, json, sys
from drvtape.cli import main
from drvtape.store import native_insert
report, as_program, args = sys.argv[1], sys.argv[2] == "program", sys.argv[3:]
sys.argv = ["drvtape", *args]
try:
    main() if as_program else main(args)
except SystemExit:
    pass
with open(report, "w") as f:
    json.dump({"modules": sorted(sys.modules), "probed": native_insert.registered.cache_info().currsize,
               "frozen": gc.get_freeze_count()}, f)
"""


def _run(tmp_path, how: str, *args: str) -> dict:
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(report), how, "--db", str(tmp_path / "v.db"), *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(report.read_text())


@pytest.mark.parametrize("args", [["sessions"], ["sessions", "--json"], ["sessions", "--with-msg", "DRV_EXITSESSION"]],
                         ids=["table", "json", "with-msg"])
def test_a_listing_loads_no_replay_runtime_and_opens_no_insert_probe(tmp_path, args):
    varied_store(tmp_path / "v.db").close()
    run = _run(tmp_path, "program", *args)
    assert [m for m in run["modules"] if m.startswith(NOT_FOR_LISTING)] == []
    assert run["probed"] == 0
    assert run["frozen"] > 10_000  # the objects of typer, SQLAlchemy and pydantic, at least


def test_an_in_process_caller_of_main_keeps_its_garbage_collected(tmp_path):
    varied_store(tmp_path / "v.db").close()
    assert _run(tmp_path, "caller", "sessions")["frozen"] == 0
