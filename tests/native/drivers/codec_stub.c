/* A codec that touches no memory: DRV_OPEN with an open struct (ICOPEN, ACMDRVOPENDESCW)
   opens an instance (ids 0x5170, 0x5180, ...; winmm's first open of a driver, with lParam2 0,
   gets 0x5171),
   every ICM_* / ACMDM_* message returns 0 (ICERR_OK, MMSYSERR_NOERROR) without reading its
   lParams. For the tap's memory capture: pointers a driver must not follow (unreadable,
   beyond the catalog's cap), and the tap's own cost (bench), the driver's being nil.
   The one exception is ACMDM_DRIVER_DETAILS, which an ACM driver must answer: msacm32 adding
   a function driver sends it with only cbStruct set and then sends ACMDM_FORMATTAG_DETAILS
   cFormatTags times (Wine's msacm32, MSACM_FillCache), so a driver leaving the struct as it
   came had msacm32 loop over stack garbage: 1 time under the x64 tap, thousands under the x86
   one (tapclient acmexit: a tape of 168 MB in 15 s, still growing). The stub says: an audio
   codec with no format tags and no filter tags. */
#define UNICODE
#define _UNICODE /* msacm.h (via vfw.h) gives the W structs */
#include "driverproc.h"
#include <string.h>
#include <vfw.h>

#define ACMDM_DRIVER_DETAILS (ACMDM_BASE + 10) /* Wine's msacmdrv.h; mingw-w64 has no msacmdrv.h */

static LONG opens;

static LRESULT driver_details(ACMDRIVERDETAILSW *asked)
{
    if (!asked)
        return MMSYSERR_INVALPARAM;
    ACMDRIVERDETAILSW details = {.fccType = ACMDRIVERDETAILS_FCCTYPE_AUDIOCODEC,
                                 .fdwSupport = ACMDRIVERDETAILS_SUPPORTF_CODEC,
                                 .szShortName = L"codec_stub"};
    DWORD size = asked->cbStruct < sizeof details ? asked->cbStruct : sizeof details;
    details.cbStruct = size;
    memcpy(asked, &details, size);
    return MMSYSERR_NOERROR;
}

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr;
    switch (msg) {
    case DRV_LOAD:
    case DRV_ENABLE:
    case DRV_DISABLE:
    case DRV_FREE:
    case DRV_CLOSE:
        return 1;
    case DRV_OPEN:
        return l2 ? 0x5160 + 0x10 * (LRESULT)InterlockedIncrement(&opens) : 0x5171;
    case ACMDM_DRIVER_DETAILS:
        return driver_details((ACMDRIVERDETAILSW *)l1);
    }
    return msg >= ICM_USER ? ICERR_OK : 0;
}
