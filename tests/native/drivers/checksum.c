/* Payload rebuild: returns a checksum (FNV-1a 64 over 64-bit words, the same as the test's
   Python) of the data its pointer parameters point at, so the test sees what arrived.
     DRV_OPEN      lParam1 wide string, lParam2 ICOPEN*
     DRV_INSTALL   lParam2 DRVCONFIGINFO*
     DRV_USER      lParam1 wide string
     DRV_USER+1    lParam2 ACMDRVOPENDESCW*
     DRV_USER+2    lParam1 bytes, lParam2 their count (not a pointer) */
#include "driverproc.h"
#include <stdint.h>
#include <vfw.h>

/* Not in mingw-w64's headers; the layout of Wine's msacmdrv.h. */
typedef struct {
    DWORD cbStruct;
    FOURCC fccType;
    FOURCC fccComp;
    DWORD dwVersion;
    DWORD dwFlags;
    DWORD dwError;
    LPCWSTR pszSectionName;
    LPCWSTR pszAliasName;
    DWORD dnDevNode;
} ACMDRVOPENDESCW;

#define NULL_MARK 0xDEADull
#define END_MARK 0xFFFFFFFFFFFFFFFFull

static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xFF)) * 0x100000001B3ull;
    return h;
}

static uint64_t mix_wstr(uint64_t h, const WCHAR *s)
{
    if (!s)
        return mix(h, NULL_MARK);
    while (*s)
        h = mix(h, *s++);
    return mix(h, END_MARK);
}

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr;
    uint64_t h = 0xCBF29CE484222325ull;
    switch (msg) {
    case DRV_OPEN: {
        const ICOPEN *o = (const ICOPEN *)l2;
        h = mix_wstr(h, (const WCHAR *)l1);
        uint64_t f[] = {o->dwSize, o->fccType, o->fccHandler, o->dwVersion, o->dwFlags,
                        (uint64_t)o->dwError, (uint64_t)(uintptr_t)o->pV1Reserved,
                        (uint64_t)(uintptr_t)o->pV2Reserved, o->dnDevNode};
        for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++)
            h = mix(h, f[i]);
        break;
    }
    case DRV_INSTALL: {
        const DRVCONFIGINFO *c = (const DRVCONFIGINFO *)l2;
        h = mix(h, c->dwDCISize);
        h = mix_wstr(mix_wstr(h, c->lpszDCISectionName), c->lpszDCIAliasName);
        break;
    }
    case DRV_USER:
        h = mix_wstr(h, (const WCHAR *)l1);
        break;
    case DRV_USER + 1: {
        const ACMDRVOPENDESCW *a = (const ACMDRVOPENDESCW *)l2;
        uint64_t f[] = {a->cbStruct, a->fccType, a->fccComp, a->dwVersion, a->dwFlags, a->dwError};
        for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++)
            h = mix(h, f[i]);
        h = mix_wstr(mix_wstr(h, a->pszSectionName), a->pszAliasName);
        h = mix(h, a->dnDevNode);
        break;
    }
    case DRV_USER + 2:
        for (LPARAM i = 0; i < l2; i++)
            h = mix(h, ((const BYTE *)l1)[i]);
        break;
    default:
        return 1;
    }
    return (LRESULT)(h >> 1); /* nonzero, and positive so it reads the same signed */
}
