/* A fake codec whose messages carry memory, for replay with memory (replay/memory.py):
     DRV_OPEN       an instance (its frame counter)
     DRV_USER       decode: lParam1 FAKEDECODE* (in; pbSrc in, cbSrc bytes; pbDst out, cbDst
                    bytes), lParam2 FAKEINFO* (out); returns cbDst, or -1 for a bad struct
     DRV_USER+1     stream open: lParam1 FAKESTREAM* (in/out); the driver keeps its own pointer
                    in dwDriver (driver-owned, like ACMDRVSTREAMINSTANCE.dwDriver)
     DRV_USER+2     stream close: lParam1 the same FAKESTREAM*; reads dwDriver back: returns 0
                    when it is the pointer stream open stored, faults when it is not memory
     ICM_GETINFO    as a VfW codec answers it (vfw.h): lParam1 ICINFO*, lParam2 its size; fills
                    it in and returns sizeof(ICINFO), 0 when the buffer is too small */
#include "driverproc.h"
#include <stdint.h>
#include <vfw.h>

typedef struct {
    DWORD cbStruct;
    DWORD cbSrc;
    const BYTE *pbSrc;
    BYTE *pbDst;
    DWORD cbDst;
    DWORD dwKey;
} FAKEDECODE;

typedef struct {
    DWORD dwFrames;
    DWORD dwSum;
    DWORD dwLastKey;
    DWORD dwReserved;
} FAKEINFO;

typedef struct {
    DWORD cbStruct;
    DWORD dwFlags;
    DWORD_PTR dwDriver;
    DWORD dwMagic;
    DWORD dwReserved;
} FAKESTREAM;

#define STREAM_MAGIC 0x5354524Du

typedef struct {
    DWORD frames;
} instance_t;

typedef struct {
    DWORD magic;
    DWORD flags;
} stream_t;

static LRESULT decode(instance_t *inst, const FAKEDECODE *d, FAKEINFO *info)
{
    if (d->cbStruct != sizeof *d || !d->cbSrc)
        return -1;
    DWORD sum = 0;
    for (DWORD i = 0; i < d->cbDst; i++) {
        d->pbDst[i] = d->pbSrc[i % d->cbSrc] ^ (BYTE)(d->dwKey + i);
        sum += d->pbDst[i];
    }
    info->dwFrames = ++inst->frames;
    info->dwSum = sum;
    info->dwLastKey = d->dwKey;
    return (LRESULT)d->cbDst;
}

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)hdrvr;
    switch (msg) {
    case DRV_OPEN:
        return (LRESULT)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(instance_t));
    case DRV_CLOSE:
        if (id)
            HeapFree(GetProcessHeap(), 0, (void *)id);
        return 1;
    case DRV_USER:
        return decode((instance_t *)id, (const FAKEDECODE *)l1, (FAKEINFO *)l2);
    case DRV_USER + 1: {
        FAKESTREAM *s = (FAKESTREAM *)l1;
        stream_t *st = HeapAlloc(GetProcessHeap(), 0, sizeof *st);
        st->magic = STREAM_MAGIC;
        st->flags = s->dwFlags;
        s->dwDriver = (DWORD_PTR)st;
        s->dwMagic = STREAM_MAGIC;
        return 0;
    }
    case DRV_USER + 2: {
        stream_t *st = (stream_t *)((FAKESTREAM *)l1)->dwDriver;
        if (st->magic != STREAM_MAGIC)
            return 2;
        st->magic = 0;
        HeapFree(GetProcessHeap(), 0, st);
        return 0;
    }
    case ICM_GETINFO: {
        ICINFO *info = (ICINFO *)l1;
        if ((size_t)l2 < sizeof *info)
            return 0;
        info->dwSize = sizeof *info;
        info->fccType = ICTYPE_VIDEO;
        info->fccHandler = mmioFOURCC('f', 'a', 'k', 'e');
        info->dwFlags = 0;
        info->dwVersion = 0x00010000;
        info->dwVersionICM = ICVERSION;
        lstrcpyW(info->szName, L"fake");
        lstrcpyW(info->szDescription, L"drvtape fake codec");
        return sizeof *info;
    }
    default:
        return 1;
    }
}
