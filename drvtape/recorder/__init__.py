"""Recording: the hook around a DriverProc, and workloads run under it."""

from contextlib import contextmanager

from drvtape.recorder.hook import Durability, Recorder


@contextmanager
def hooked(proc, db=None, *, driver: str, **options):
    """`with hooked(DriverProc, db="x.db", driver="mydrv") as proc:` records every call of proc."""
    with Recorder(db, driver=driver, **options) as recorder:
        yield recorder.wrap(proc)


__all__ = ["Durability", "Recorder", "hooked"]
