/* Shutdown bug 3 (DRV_DISABLE with instances still open): DRV_DISABLE releases the device
   buffer every instance writes to, assuming all instances are closed by then; a DRV_CLOSE
   of an instance still open flushes into it: access violation (a NULL write). */
#include "driverproc.h"

static volatile LONG *device;

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_ENABLE:
        device = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 64);
        return 1;
    case DRV_OPEN:
        return 0x300;
    case DRV_DISABLE:
        HeapFree(GetProcessHeap(), 0, (void *)device);
        device = NULL;
        return 1;
    case DRV_CLOSE:
        device[1] = 0; /* the flush: faults after DRV_DISABLE */
        return 1;
    default:
        return 1;
    }
}
