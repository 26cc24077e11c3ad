/* An MCI driver keeps each device's state with winmm's mciSetDriverData/mciGetDriverData,
   keyed by the device id winmm put in DRV_OPEN's MCI_OPEN_DRIVER_PARMS. winmm answers them
   only for devices it opened itself; drvhost calls DriverProc directly, so winmm knows no
   such device, and a replayed MCI_OPEN_DRIVER fails with MCIERR_INVALID_DEVICE_ID (Wine's
   mciwave.dll, by experiment). drvhost keeps the data itself, per device id.

   mciDriverNotify posts MM_MCINOTIFY to the window in a command's dwCallback: a window of
   the recording process. On replay it posts nothing (docs/replay.md). */
#include "host_mci.h"

#include <mmsystem.h>

#include "iat.h"

#define DEVICES 256u /* devices open at once; a driver opening more gets FALSE from set */

static struct {
    MCIDEVICEID id; /* 0: free */
    DWORD_PTR data;
} devices[DEVICES];
static CRITICAL_SECTION devices_lock;

static BOOL WINAPI host_set_driver_data(MCIDEVICEID id, DWORD_PTR data)
{
    BOOL stored = FALSE;
    EnterCriticalSection(&devices_lock);
    for (unsigned i = 0; i < DEVICES && !stored; i++)
        if (devices[i].id == id) {
            devices[i].data = data;
            stored = TRUE;
        }
    for (unsigned i = 0; i < DEVICES && !stored && id; i++)
        if (devices[i].id == 0) {
            devices[i].id = id;
            devices[i].data = data;
            stored = TRUE;
        }
    LeaveCriticalSection(&devices_lock);
    return stored;
}

static DWORD_PTR WINAPI host_get_driver_data(MCIDEVICEID id)
{
    DWORD_PTR data = 0;
    EnterCriticalSection(&devices_lock);
    for (unsigned i = 0; i < DEVICES; i++)
        if (devices[i].id == id && id)
            data = devices[i].data;
    LeaveCriticalSection(&devices_lock);
    return data;
}

static BOOL WINAPI host_driver_notify(HANDLE callback, MCIDEVICEID id, UINT status)
{
    (void)callback, (void)id, (void)status;
    return TRUE;
}

void mci_attach(HMODULE driver)
{
    InitializeCriticalSection(&devices_lock);
    HMODULE winmm = GetModuleHandleW(L"winmm.dll");  /* loaded: the driver imports it */
    if (winmm == NULL)
        return;
    const iat_patch_t patches[] = {
        {winmm, "mciSetDriverData", (void *)host_set_driver_data},
        {winmm, "mciGetDriverData", (void *)host_get_driver_data},
        {winmm, "mciDriverNotify", (void *)host_driver_notify},
    };
    iat_patch(driver, patches, sizeof patches / sizeof patches[0]);
}
