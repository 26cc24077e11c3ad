/* Shutdown bug 4 (thread affinity): an instance remembers the thread that opened it and
   DRV_CLOSE refuses (returns 0) on any other thread. DRV_USER returns the calling thread's id. */
#include "driverproc.h"

static DWORD opener;

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_OPEN:
        opener = GetCurrentThreadId();
        return 0x200;
    case DRV_CLOSE:
        return GetCurrentThreadId() == opener;
    case DRV_USER:
        return GetCurrentThreadId();
    default:
        return 1;
    }
}
