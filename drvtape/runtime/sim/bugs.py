"""Simulated drivers with the shutdown bugs of docs/domain.md, one bug each.

Each is the reference driver plus one mistake, so replaying a buggy session against
sim:reference shows where the correct driver answers differently.
"""

import threading

from drvtape.runtime.sim.reference import ReferenceDriver


class ExitSpinDriver(ReferenceDriver):
    """Bug 1: DRV_EXITSESSION spins `while (cPendingOpens != 0) Yield();` (the DDK wave sample).

    A DRV_OPEN waits for its device, which completes when the system is otherwise idle. An
    open that completes after DRV_EXITSESSION set the exiting flag gives up without
    decrementing the pending count, so the spin never ends: a hang at logoff. It needs a
    second thread: DRV_EXITSESSION must arrive while a DRV_OPEN is still pending.
    """

    name = "exit-spin"

    def __init__(self, coordinator=None):
        super().__init__(coordinator)
        self.pending_opens = 0
        self.exiting = False
        self._waiting_opens: list[list[bool]] = []
        self.coordinator.on_idle(self._complete_device_opens)

    def _complete_device_opens(self) -> bool:
        done, self._waiting_opens = self._waiting_opens, []
        for flag in done:
            flag[0] = True
        return bool(done)

    def on_open(self, driver_id, hdrvr, lparam1, lparam2):
        self.pending_opens += 1
        completed = [False]
        self._waiting_opens.append(completed)
        self.coordinator.wait_until(lambda: completed[0])
        if self.exiting:
            return 0  # the bug: the pending count is never decremented on this path
        self.pending_opens -= 1
        return super().on_open(driver_id, hdrvr, lparam1, lparam2)

    def on_exitsession(self, driver_id, hdrvr, lparam1, lparam2):
        self.exiting = True
        self.coordinator.wait_until(lambda: self.pending_opens == 0)
        return 0


class UseAfterReleaseDriver(ReferenceDriver):
    """Bug 2: DRV_EXITSESSION releases shared state "because we are ending"; a DRV_CLOSE or a
    DRV_USER message that still arrives (Wine sends DRV_CLOSE after it) uses it."""

    name = "use-after-release"

    def __init__(self, coordinator=None):
        super().__init__(coordinator)
        self.shared: dict | None = {"mixer": "ready"}

    def on_exitsession(self, driver_id, hdrvr, lparam1, lparam2):
        self.shared = None
        return 0

    def _use_shared(self, offset: int, message: str) -> None:
        if self.shared is None:
            raise self.access_violation(offset, f"{message} read shared state released by DRV_EXITSESSION")

    def on_close(self, driver_id, hdrvr, lparam1, lparam2):
        self._use_shared(0x1140, "DRV_CLOSE")
        return super().on_close(driver_id, hdrvr, lparam1, lparam2)

    def __call__(self, driver_id, hdrvr, msg, lparam1, lparam2):
        if msg >= 0x4000:  # DRV_USER and above: the driver's private messages use the shared state
            self._use_shared(0x1180, "DRV_USER message")
            return 0
        return super().__call__(driver_id, hdrvr, msg, lparam1, lparam2)


class DisableWithOpenDriver(ReferenceDriver):
    """Bug 3: DRV_DISABLE frees every instance's memory but leaves them on the list; DRV_FREE
    then walks the list of freed instances. Harmless when every instance was closed first,
    an access violation when DRV_DISABLE/DRV_FREE arrive with instances still open (shutdown)."""

    name = "disable-with-open"

    def __init__(self, coordinator=None):
        super().__init__(coordinator)
        self.freed: set[int] = set()

    def on_disable(self, driver_id, hdrvr, lparam1, lparam2):
        self.freed.update(self.instances)
        return 1

    def on_free(self, driver_id, hdrvr, lparam1, lparam2):
        for instance in self.instances:
            if instance in self.freed:
                raise self.access_violation(0x1260, f"DRV_FREE walked instance 0x{instance:X}, freed by DRV_DISABLE")
        return 1


class ThreadAffinityDriver(ReferenceDriver):
    """Bug 4: the instance's context lives in the opening thread's thread-local storage; a
    DRV_CLOSE on another thread (shutdown often closes from a different thread) reads NULL."""

    name = "thread-affinity"

    def __init__(self, coordinator=None):
        super().__init__(coordinator)
        self._tls = threading.local()

    def on_open(self, driver_id, hdrvr, lparam1, lparam2):
        instance = super().on_open(driver_id, hdrvr, lparam1, lparam2)
        contexts = getattr(self._tls, "contexts", None)
        if contexts is None:
            contexts = self._tls.contexts = {}
        contexts[instance] = {"hdrvr": hdrvr}
        return instance

    def on_close(self, driver_id, hdrvr, lparam1, lparam2):
        contexts = getattr(self._tls, "contexts", None) or {}
        if driver_id in self.instances and driver_id not in contexts:
            raise self.access_violation(0x1320, "DRV_CLOSE on a thread other than the opener: TLS context is NULL")
        contexts.pop(driver_id, None)
        return super().on_close(driver_id, hdrvr, lparam1, lparam2)
