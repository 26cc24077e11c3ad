/* A VfW codec that touches no memory: DRV_OPEN with an ICOPEN opens an instance (id 0x5170;
   winmm's first open of a driver, with lParam2 0, gets 0x5171), every ICM_* message returns
   ICERR_OK without reading its lParams. For the tap's memory
   capture of pointers a driver must not follow (unreadable, or beyond the catalog's cap). */
#include "driverproc.h"
#include <vfw.h>

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1;
    switch (msg) {
    case DRV_LOAD:
    case DRV_ENABLE:
    case DRV_DISABLE:
    case DRV_FREE:
    case DRV_CLOSE:
        return 1;
    case DRV_OPEN:
        return l2 ? 0x5170 : 0x5171;
    }
    return msg >= ICM_USER ? ICERR_OK : 0;
}
