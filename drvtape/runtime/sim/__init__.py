"""Simulated drivers (sim:NAME), bundled and from the `drvtape.drivers` entry-point group.

An entry point names a factory called with a Coordinator that returns a DriverProc: a
callable taking (dwDriverId, hdrvr, msg, lParam1, lParam2). SimDriver subclasses are such
factories.
"""

from importlib.metadata import entry_points

from drvtape.errors import DrvtapeError
from drvtape.runtime.faults import DriverFault
from drvtape.runtime.sim.base import SimDriver, def_driver_proc
from drvtape.runtime.sim.bugs import DisableWithOpenDriver, ExitSpinDriver, ThreadAffinityDriver, UseAfterReleaseDriver
from drvtape.runtime.sim.codec import KeptFrameDecoder, VfwDecoder
from drvtape.runtime.sim.reference import ReferenceDriver

ENTRY_POINT_GROUP = "drvtape.drivers"
BUNDLED = {cls.name: cls for cls in (ReferenceDriver, ExitSpinDriver, UseAfterReleaseDriver,
                                     DisableWithOpenDriver, ThreadAffinityDriver, VfwDecoder, KeptFrameDecoder)}


def driver_factories() -> dict:
    """Every simulated driver by name: bundled ones, then third parties' entry points."""
    found = dict(BUNDLED)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in found:
            found[ep.name] = ep
    return found


def load_factory(name: str):
    factories = driver_factories()
    if name not in factories:
        raise DrvtapeError(f"unknown simulated driver sim:{name} (known: {', '.join(sorted(factories))})")
    factory = factories[name]
    if hasattr(factory, "load"):
        try:
            factory = factory.load()
        except Exception as exc:  # a third party's broken plugin is the user's input
            raise DrvtapeError(f"cannot load sim:{name} from its entry point: {exc}") from None
    return factory


__all__ = ["DriverFault", "SimDriver", "def_driver_proc", "driver_factories", "load_factory", "BUNDLED"]
