/* A serial hang: DRV_USER sleeps forever. */
#include "driverproc.h"

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    if (msg == DRV_USER)
        Sleep(INFINITE);
    return 1;
}
