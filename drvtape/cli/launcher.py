"""How a person types `drvtape` in this shell, so that printed commands work as printed.

`bash scripts/setup` installs the console script in .venv/bin, which is on PATH only once
the environment is activated; a command printed as plain `drvtape` then fails with
"command not found". So plain `drvtape` is printed only when PATH finds this very
environment's script; otherwise the script's path, or `python -m drvtape`.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

SCRIPT_NAME = "drvtape.exe" if sys.platform == "win32" else "drvtape"


def console_script() -> Path | None:
    """The drvtape script installed beside the running interpreter, if there is one."""
    script = Path(sysconfig.get_path("scripts")) / SCRIPT_NAME
    return script if script.is_file() else None


def typed_prog() -> str:
    """What to type for `drvtape` here: `drvtape`, `.venv/bin/drvtape` or `/path/python -m drvtape`."""
    script = console_script()
    on_path = shutil.which("drvtape")
    if script is not None and on_path is not None and os.path.samefile(on_path, script):
        return "drvtape"
    if script is None:
        return shlex.join([sys.executable, "-m", "drvtape"])
    try:
        shown = str(script.relative_to(Path.cwd()))
    except ValueError:
        shown = str(script)
    return shlex.quote(shown if os.sep in shown else os.path.join(".", shown))
