/* Shutdown bug 2 (use after release): DRV_EXITSESSION frees the shared state "because we
   are ending"; a DRV_CLOSE that still arrives uses it: access violation (a NULL read). */
#include "driverproc.h"

typedef struct {
    LONG opens;
} shared_t;

static shared_t *shared;

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_LOAD:
        shared = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *shared);
        return 1;
    case DRV_OPEN:
        return ++shared->opens;
    case DRV_EXITSESSION:
        HeapFree(GetProcessHeap(), 0, shared);
        shared = NULL;
        return 0;
    case DRV_CLOSE:
        return --*(volatile LONG *)&shared->opens >= 0 && id;
    default:
        return 1;
    }
}
