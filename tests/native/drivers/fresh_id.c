/* Id remapping: DRV_OPEN returns a heap address (different across runs and from any recorded
   value); DRV_USER returns 1 when dwDriverId is an instance this process opened, else 0,
   DRV_USER+1 returns dwDriverId itself. */
#include "driverproc.h"

#define MAX_OPEN 64
static DWORD_PTR opened[MAX_OPEN];
static int n_opened;

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_OPEN:
        if (n_opened == MAX_OPEN)
            return 0;
        return opened[n_opened++] = (DWORD_PTR)HeapAlloc(GetProcessHeap(), 0, 16) ^ GetCurrentProcessId();
    case DRV_USER:
        for (int i = 0; i < n_opened; i++)
            if (opened[i] == id)
                return 1;
        return 0;
    case DRV_USER + 1:
        return (LRESULT)id;
    default:
        return 1;
    }
}
