"""The base of simulated drivers: a DriverProc object with DefDriverProc's answers."""

from collections.abc import Callable

from drvtape.runtime.coop import Coordinator
from drvtape.runtime.faults import EXCEPTION_ACCESS_VIOLATION, DriverFault
from drvtape.schema import messages as m

# DefDriverProc as Wine's winmm implements it (dlls/winmm/driver.c): 1 for the driver-wide
# lifecycle messages, DRV_SUCCESS (1) for DRV_INSTALL/DRV_REMOVE, 0 for everything else.
_DEF_DRIVER_PROC = {m.DRV_LOAD: 1, m.DRV_FREE: 1, m.DRV_ENABLE: 1, m.DRV_DISABLE: 1,
                    m.DRV_INSTALL: 1, m.DRV_REMOVE: 1}


def def_driver_proc(msg: int) -> int:
    return _DEF_DRIVER_PROC.get(msg, 0)


class SimDriver:
    """Subclasses answer messages with methods named on_<message> (on_open, on_exitsession, ...).

    Each takes (driver_id, hdrvr, lparam1, lparam2) and returns the LRESULT. Waits go through
    self.coordinator.wait_until so that hangs are found deterministically.
    """

    name = "sim"
    _handlers: dict[int, Callable]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for code, info in m.CATALOG.items():
            method = getattr(cls, "on_" + info.name[len("DRV_"):].lower(), None)
            if method is not None:
                cls._handlers[code] = method

    def __init__(self, coordinator: Coordinator | None = None):
        self.coordinator = coordinator or Coordinator()

    def __call__(self, driver_id: int, hdrvr: int, msg: int, lparam1, lparam2) -> int:
        handler = self._handlers.get(msg)
        if handler is None:
            return def_driver_proc(msg)
        return handler(self, driver_id, hdrvr, lparam1, lparam2)

    def access_violation(self, offset: int, what: str) -> DriverFault:
        """The fault a C driver would take here; offset names the faulting site in this driver."""
        return DriverFault(EXCEPTION_ACCESS_VIOLATION, module=f"sim:{self.name}", offset=offset,
                           description=what)
