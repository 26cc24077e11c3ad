/* Issue 12's shape without a codec: DRV_OPEN hands out the lowest free instance id (so
   consecutive opens get the same dwDriverId, as iccvid's heap addresses do), DRV_CLOSE
   returns 1 when the id it gets is an open one (and frees it), else 0; DRV_USER returns 1
   when its id is open. Each call sleeps 1 ms first, so calls on different threads overlap. */
#include "driverproc.h"

#define SLOTS 16
static SRWLOCK lock = SRWLOCK_INIT;
static int open_slot[SLOTS];

static LRESULT under_lock(UINT msg, DWORD_PTR id)
{
    DWORD_PTR k = id / 0x100 - 1;
    if (msg == DRV_OPEN) {
        for (int i = 0; i < SLOTS; i++)
            if (!open_slot[i]) {
                open_slot[i] = 1;
                return (LRESULT)(i + 1) * 0x100;
            }
        return 0;
    }
    if (id % 0x100 || k >= SLOTS || !open_slot[k])
        return 0;
    if (msg == DRV_CLOSE)
        open_slot[k] = 0;
    return 1;
}

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)hdrvr, (void)l1, (void)l2;
    if (msg != DRV_OPEN && msg != DRV_CLOSE && msg != DRV_USER)
        return 1;
    Sleep(1);
    AcquireSRWLockExclusive(&lock);
    LRESULT r = under_lock(msg, id);
    ReleaseSRWLockExclusive(&lock);
    return r;
}
