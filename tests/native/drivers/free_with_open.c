/* A shutdown bug on Windows' own path (domain.md bug 3): DRV_DISABLE releases the buffer of
   every instance still open, and DRV_FREE then flushes each open instance into its buffer: a
   NULL write. Closing every instance first is harmless; Windows ending with one open
   (DRV_EXITSESSION, DRV_DISABLE, DRV_FREE, no DRV_CLOSE) crashes in DRV_FREE. */
#include "driverproc.h"

#define MAX_INSTANCES 8

static LONG *buffers[MAX_INSTANCES];  /* non-NULL while the instance is open */
static BOOL open_[MAX_INSTANCES];

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_OPEN:
        for (int i = 0; i < MAX_INSTANCES; i++) {
            if (!open_[i]) {
                open_[i] = TRUE;
                buffers[i] = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 64);
                return 0x500 + i;
            }
        }
        return 0;
    case DRV_CLOSE:
        if (id < 0x500 || id >= 0x500 + MAX_INSTANCES) return 0;
        HeapFree(GetProcessHeap(), 0, buffers[id - 0x500]);
        buffers[id - 0x500] = NULL;
        open_[id - 0x500] = FALSE;
        return 1;
    case DRV_DISABLE:
        for (int i = 0; i < MAX_INSTANCES; i++) {
            HeapFree(GetProcessHeap(), 0, buffers[i]);
            buffers[i] = NULL;  /* the bug: the instance stays open */
        }
        return 1;
    case DRV_FREE:
        for (int i = 0; i < MAX_INSTANCES; i++)
            if (open_[i])
                *(volatile LONG *)buffers[i] = 0;  /* flush: NULL once DRV_DISABLE ran */
        return 1;
    default:
        return 1;
    }
}
