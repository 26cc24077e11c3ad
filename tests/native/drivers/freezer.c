/* A driver that wedges its whole host: DRV_USER suspends every other thread of the process
   (the host's watchdog included), then sleeps forever. Only the replayer outside can notice. */
#include "driverproc.h"
#include <tlhelp32.h>

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    if (msg != DRV_USER)
        return 1;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 te = {.dwSize = sizeof te};
    for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te)) {
        if (te.th32OwnerProcessID != GetCurrentProcessId() || te.th32ThreadID == GetCurrentThreadId())
            continue;
        HANDLE t = OpenThread(THREAD_SUSPEND_RESUME, FALSE, te.th32ThreadID);
        if (t)
            SuspendThread(t);
    }
    Sleep(INFINITE);
    return 0;
}
