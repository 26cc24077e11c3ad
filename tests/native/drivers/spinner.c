/* The watchdog's two counts (host_watchdog.c): DRV_USER spins for ever without giving the core
   away (a hang by its CPU time); DRV_USER + 1 waits lParam1 steps of Sleep(1), then returns 1
   (no hang: it progresses a step each time the machine lets it run). */
#include "driverproc.h"

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l2;
    if (msg == DRV_USER)
        for (volatile int spin = 1; spin;)
            ;
    if (msg == DRV_USER + 1)
        for (LPARAM step = 0; step < l1; step++)
            Sleep(1);
    return 1;
}
