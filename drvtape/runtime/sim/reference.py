"""sim:reference: a correct driver. Opens and closes instances; DefDriverProc for the rest."""

from drvtape.runtime.sim.base import SimDriver

FIRST_INSTANCE_ID = 0x1001


class ReferenceDriver(SimDriver):
    name = "reference"

    def __init__(self, coordinator=None):
        super().__init__(coordinator)
        self.instances: dict[int, int] = {}  # dwDriverId -> hdrvr
        self._next_id = FIRST_INSTANCE_ID

    def on_open(self, driver_id, hdrvr, lparam1, lparam2):
        instance = self._next_id
        self._next_id += 1
        self.instances[instance] = hdrvr
        return instance

    def on_close(self, driver_id, hdrvr, lparam1, lparam2):
        return 1 if self.instances.pop(driver_id, None) is not None else 0
