/* A codec that touches no memory: DRV_OPEN with an open struct (ICOPEN, ACMDRVOPENDESCW)
   opens an instance (ids 0x5170, 0x5180, ...; winmm's first open of a driver, with lParam2 0,
   gets 0x5171),
   every ICM_* / ACMDM_* message returns 0 (ICERR_OK, MMSYSERR_NOERROR) without reading its
   lParams. For the tap's memory capture: pointers a driver must not follow (unreadable,
   beyond the catalog's cap), and the tap's own cost (bench), the driver's being nil. */
#include "driverproc.h"
#include <vfw.h>

static LONG opens;

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
        return l2 ? 0x5160 + 0x10 * (LRESULT)InterlockedIncrement(&opens) : 0x5171;
    }
    return msg >= ICM_USER ? ICERR_OK : 0;
}
