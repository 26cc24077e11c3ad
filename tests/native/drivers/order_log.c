/* The schedule cases' driver (tests/schedule_cases.py): every DRV_USER call takes a ticket
   from one counter when it enters and another when it leaves, and returns both
   (entry << 32 | exit), so the test sees the run's order of entries and exits.
   lparam1 names the call (0..63); lparam2 says what it does: 0 return at once, 1 take
   50 ms, 2 never return, 3 + k wait (up to 2 s) until call k has entered. */
#include "driverproc.h"

#define MAX_CALLS 64
static volatile LONG ticket;
static volatile LONG entered[MAX_CALLS];

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr;
    if (msg != DRV_USER || l1 < 0 || l1 >= MAX_CALLS)
        return 1;
    LONG64 entry = InterlockedIncrement(&ticket);
    InterlockedExchange(&entered[l1], 1);
    if (l2 == 1)
        Sleep(50);
    else if (l2 == 2)
        for (;;)
            Sleep(1000);
    else if (l2 >= 3 && l2 - 3 < MAX_CALLS)
        for (int ms = 0; ms < 2000 && !entered[l2 - 3]; ms++)
            Sleep(1);
    LONG64 leave = InterlockedIncrement(&ticket);
    return (LRESULT)(entry << 32 | leave);
}
