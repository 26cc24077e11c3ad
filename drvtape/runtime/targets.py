"""Targets: what a workload runs against and a session is replayed against.

sim:NAME       a simulated driver (bundled, or from the drvtape.drivers entry points)
py:MODULE:ATTR a user's Python DriverProc (a callable of five arguments, or a class whose
               instances are one: a fresh instance per run)
dll:PATH       a real driver DLL, run in a separate drvhost process (under Wine on Linux)
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drvtape.errors import DrvtapeError
from drvtape.runtime.coop import Coordinator
from drvtape.runtime.sim import driver_factories, load_factory


class TargetKind(StrEnum):
    SIM = "sim"
    PY = "py"
    DLL = "dll"


@dataclass
class RunningDriver:
    """A fresh driver for one run: its DriverProc and how its waits behave."""

    proc: Callable
    coordinator: Coordinator
    cooperative: bool  # waits go through the coordinator: hangs are detected, not timed out


@dataclass(frozen=True)
class Target:
    spec: str
    kind: TargetKind
    name: str  # the driver name, module:attr, or DLL path

    @property
    def in_process(self) -> bool:
        return self.kind is not TargetKind.DLL

    def start(self) -> RunningDriver:
        coordinator = Coordinator()
        if self.kind is TargetKind.SIM:
            return RunningDriver(load_factory(self.name)(coordinator), coordinator, cooperative=True)
        if self.kind is TargetKind.PY:
            return RunningDriver(_load_python_proc(self.name), coordinator, cooperative=False)
        raise DrvtapeError(f"{self.spec} runs out of process; it has no in-process DriverProc")


def parse_target(spec: str) -> Target:
    prefix, sep, rest = spec.partition(":")
    if not sep or not rest or prefix not in set(TargetKind):
        raise DrvtapeError(f"unknown target {spec!r}: use sim:NAME, py:MODULE:ATTR or dll:PATH")
    kind = TargetKind(prefix)
    if kind is TargetKind.SIM:
        if rest not in driver_factories():
            raise DrvtapeError(f"unknown simulated driver {spec} (known: {', '.join(sorted(driver_factories()))})")
    elif kind is TargetKind.PY:
        module, sep, attr = rest.rpartition(":")
        if not sep or not module or not attr:
            raise DrvtapeError(f"target {spec!r}: write py:MODULE:ATTR, e.g. py:mydriver:DriverProc")
    else:
        try:
            path = Path(rest).expanduser().resolve()
            found = path.is_file()
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL
            raise DrvtapeError(f"target {spec[:200]!r}: not a usable path ({exc.__class__.__name__})") from None
        if not found:
            raise DrvtapeError(f"target {spec[:200]!r}: no driver file at {str(path)[:300]}")
        rest = str(path)
    return Target(spec, kind, rest)


def _load_python_proc(name: str) -> Callable:
    module_name, _, attr = name.rpartition(":")
    # Like pytest and `python -m`, let a module beside the user be found.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise DrvtapeError(f"cannot import {module_name!r} for py:{name}: {exc}") from None
    proc = getattr(module, attr, None)
    if proc is None:
        raise DrvtapeError(f"module {module_name!r} has no attribute {attr!r}")
    if isinstance(proc, type):
        proc = proc()
    if not callable(proc):
        raise DrvtapeError(f"py:{name} is not callable: a DriverProc takes five arguments")
    return proc
