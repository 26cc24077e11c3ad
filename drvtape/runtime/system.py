"""What the system sends a driver when an application opens, uses and closes it, and when
Windows ends: the sequences a workload's steps turn into.

Opening: DRV_LOAD and DRV_ENABLE on the first open, then DRV_OPEN (dwDriverId 0). Closing:
DRV_CLOSE, and after the last instance DRV_DISABLE and DRV_FREE, which carry the last
instance's id and handle as Wine 8.0's winmm does (observed, see docs/domain.md). Wine also opens
a hidden first instance; that is Wine's own and is not imitated here. Windows ending:
DRV_EXITSESSION to each open instance, then DRV_DISABLE and DRV_FREE with instances still
open and never closed (the 16-bit design docs/domain.md describes).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from drvtape.schema import messages as m
from drvtape.schema.values import as_unsigned64

FIRST_HANDLE = 0x7E10  # the HDRVR values handed out are this, this + 0x10, ...


class InstanceState(StrEnum):
    OPENING = "opening"  # DRV_OPEN sent, not returned
    OPEN = "open"
    REFUSED = "refused"  # DRV_LOAD or DRV_OPEN returned 0
    CLOSED = "closed"


@dataclass
class Instance:
    hdrvr: int
    driver_id: int = 0
    state: InstanceState = InstanceState.OPENING


class DriverSystem:
    def __init__(self, proc: Callable):
        self.proc = proc
        self.loaded = False
        self.instances: dict[str, Instance] = {}
        self._handles = itertools.count(FIRST_HANDLE, 0x10)
        self._lock = threading.Lock()  # bookkeeping only; never held across a driver call

    def open(self, name: str, lparam1, lparam2) -> bool:
        with self._lock:
            inst = self.instances[name] = Instance(next(self._handles))
            first, self.loaded = not self.loaded, True
        proc, h = self.proc, inst.hdrvr
        if first:
            if proc(0, h, m.DRV_LOAD, 0, 0) == 0:
                with self._lock:
                    inst.state, self.loaded = InstanceState.REFUSED, False
                return False
            proc(0, h, m.DRV_ENABLE, 0, 0)
        driver_id = as_unsigned64(proc(0, h, m.DRV_OPEN, lparam1, lparam2))  # the LRESULT, as a DWORD_PTR
        with self._lock:
            inst.driver_id = driver_id
            inst.state = InstanceState.OPEN if driver_id else InstanceState.REFUSED
        return bool(driver_id)

    def instance(self, name: str) -> Instance | None:
        """The instance if it is open now (its DRV_OPEN returned nonzero and it is not closed)."""
        inst = self.instances.get(name)
        return inst if inst is not None and inst.state is InstanceState.OPEN else None

    def send(self, inst: Instance, msg: int, lparam1, lparam2) -> int:
        return self.proc(inst.driver_id, inst.hdrvr, msg, lparam1, lparam2)

    def close(self, inst: Instance, lparam1, lparam2) -> int:
        result = self.proc(inst.driver_id, inst.hdrvr, m.DRV_CLOSE, lparam1, lparam2)
        with self._lock:
            inst.state = InstanceState.CLOSED
            last = self.loaded and not any(i.state in (InstanceState.OPEN, InstanceState.OPENING)
                                           for i in self.instances.values())
            if last:
                self.loaded = False
        if last:
            self._unload(inst)
        return result

    def shutdown(self, only: Instance | None = None) -> None:
        with self._lock:
            targets = [only] if only else [i for i in self.instances.values() if i.state is InstanceState.OPEN]
            loaded, self.loaded = self.loaded, False
        for inst in targets:
            self.proc(inst.driver_id, inst.hdrvr, m.DRV_EXITSESSION, 0, 0)
        if loaded:
            self._unload(targets[-1] if targets else next(reversed(self.instances.values())))

    def _unload(self, inst: Instance) -> None:
        self.proc(inst.driver_id, inst.hdrvr, m.DRV_DISABLE, 0, 0)
        self.proc(inst.driver_id, inst.hdrvr, m.DRV_FREE, 0, 0)
