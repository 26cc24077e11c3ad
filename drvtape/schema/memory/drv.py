"""The DRV_* messages every driver receives, as catalog entries. Their pointer parameters
(DRV_OPEN's name and open struct, DRVCONFIGINFO) are carried by the older payload models
(schema.payloads), so their entries name no memory nodes."""

from drvtape.schema.memory.spec import MessageMemory
from drvtape.schema.messages import CATALOG

MESSAGES = tuple(MessageMemory(info.code, info.name, info.lparam1, info.lparam2, info.returns)
                 for info in CATALOG.values())
