"""Which target replay, minimize and explore run: the one the user names, never one a session names.

A session is data: its header (outside the hash chain) says which target it was recorded
against, and running that unasked would let an imported session import a Python module
from the current folder (py:) or load a DLL (dll:). So without --target these commands
refuse, naming the recorded target; `--target recorded` is the user's explicit yes.

A recorded dll: target is a Windows path when it came from a tape (`Z:\\home\\u\\drv.dll`).
Off Windows it is looked up through the Wine prefix's drive letters (dosdevices/z: -> /,
c: -> drive_c, as Wine 8.0 creates them), and if nothing is there, the error says which
file was looked for and how to pass --target.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.errors import DrvtapeError
from drvtape.runtime.targets import Target, parse_target

RECORDED = "recorded"
_DRIVE_PATH = re.compile(r"^([A-Za-z]):[\\/](.*)$", re.S)


def local_dll_path(recorded: str) -> Path | None:
    """Where a recorded Windows path is on this machine (None: no drive letter to map)."""
    found = _DRIVE_PATH.match(recorded)
    if os.name == "nt" or found is None:
        return None
    letter, rest = found.group(1).lower(), found.group(2).replace("\\", "/")
    drive = wine.prefix_dir() / "dosdevices" / f"{letter}:"
    if drive.exists():
        return drive.resolve() / rest
    if letter == "z":  # every Wine prefix maps Z: to /
        return Path("/") / rest
    return drive / rest


def _recorded_target(recorded: str) -> Target:
    kind, _, rest = recorded.partition(":")
    local = local_dll_path(rest) if kind == "dll" else None
    if local is None:
        return parse_target(recorded)
    if not local.is_file():
        raise DrvtapeError(f"the session was recorded against {recorded}; looked for it at {local}, which is not "
                           f"there: pass --target dll:PATH")
    return parse_target(f"dll:{local}")


def choose_target(given: str | None, recorded: str | None) -> Target:
    """The target GIVEN (--target), or with --target recorded the session's own RECORDED one."""
    if given is not None and given != RECORDED:
        return parse_target(given)
    if not recorded:
        raise DrvtapeError("the session does not say which target it was recorded against: pass --target")
    if given is None:
        raise DrvtapeError(f"the session was recorded against {recorded}, which runs only if you say so: "
                           f"pass --target recorded to use it, or --target TARGET")
    return _recorded_target(recorded)
