"""The bases of the class messages' codes, for the class tables (icm.py, acm.py) and for
drivers that speak them (runtime/sim), without building the tables."""

from drvtape.schema.messages import DRV_USER

ICM_USER = DRV_USER  # vfw.h: ICM_USER (DRV_USER+0x0000)
ICM_RESERVED = DRV_USER + 0x1000  # vfw.h: ICM_RESERVED_LOW
ACMDM_BASE = DRV_USER + 0x2000  # msacm.h: ACMDM_RESERVED_LOW
