/* A DLL whose DllMain never returns from DLL_PROCESS_ATTACH. */
#include "driverproc.h"

BOOL WINAPI DllMain(HINSTANCE dll, DWORD reason, void *reserved)
{
    (void)dll, (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        Sleep(INFINITE);
    return TRUE;
}

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)msg, (void)l1, (void)l2;
    return 1;
}
