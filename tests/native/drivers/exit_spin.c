/* Shutdown bug 1 (spin in DRV_EXITSESSION), after the DDK wave sample: DRV_EXITSESSION sets
   an exiting flag and waits for pending opens. A DRV_OPEN that sees the flag gives up
   without dropping its pending count, so an open running on another thread when
   DRV_EXITSESSION starts makes it spin forever. Serially, nothing is pending: no hang. */
#include "driverproc.h"

static volatile LONG pending, exiting;

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_OPEN:
        InterlockedIncrement(&pending);
        /* The open's slow part: it waits up to a second for its device, and gives up early
           when the driver is exiting (which only another thread can make it see). */
        for (int ms = 0; ms < 1000 && !exiting; ms++)
            Sleep(1);
        if (exiting)
            return 0; /* the bug: pending stays incremented */
        InterlockedDecrement(&pending);
        return 0x100;
    case DRV_EXITSESSION:
        exiting = 1;
        Sleep(100); /* let an open that another thread has just entered count itself */
        while (pending)
            SwitchToThread();
        return 0;
    default:
        return 1;
    }
}
