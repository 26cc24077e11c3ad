/*
 * The driver-side ACM structs of Wine's include/msacmdrv.h (wine-mirror/wine), which
 * mingw-w64 does not ship, transcribed member for member with Wine's packing
 * (ACMDRVSTREAMHEADER inside pshpack1, the others natural), so the catalog's layouts
 * (drvtape/schema/memory/structs.py) are checked against the definitions Wine's msacm32
 * and Wine's codecs are built with.
 */
#ifndef WINE_MSACMDRV_H
#define WINE_MSACMDRV_H

#include <windows.h>
#include <mmsystem.h>
#include <mmreg.h>
#include <msacm.h>

typedef struct _ACMDRVSTREAMINSTANCE {
    DWORD cbStruct;
    PWAVEFORMATEX pwfxSrc;
    PWAVEFORMATEX pwfxDst;
    PWAVEFILTER pwfltr;
    DWORD_PTR dwCallback;
    DWORD_PTR dwInstance;
    DWORD fdwOpen;
    DWORD fdwDriver;
    DWORD_PTR dwDriver;
    HACMSTREAM has;
} ACMDRVSTREAMINSTANCE;

typedef struct _ACMDRVSTREAMHEADER *PACMDRVSTREAMHEADER;
#include <pshpack1.h>
typedef struct _ACMDRVSTREAMHEADER {
    DWORD cbStruct;
    DWORD fdwStatus;
    DWORD_PTR dwUser;
    LPBYTE pbSrc;
    DWORD cbSrcLength;
    DWORD cbSrcLengthUsed;
    DWORD_PTR dwSrcUser;
    LPBYTE pbDst;
    DWORD cbDstLength;
    DWORD cbDstLengthUsed;
    DWORD_PTR dwDstUser;
    DWORD fdwConvert;
    PACMDRVSTREAMHEADER *padshNext;
    DWORD fdwDriver;
    DWORD_PTR dwDriver;
    DWORD fdwPrepared;
    DWORD_PTR dwPrepared;
    LPBYTE pbPreparedSrc;
    DWORD cbPreparedSrcLength;
    LPBYTE pbPreparedDst;
    DWORD cbPreparedDstLength;
} ACMDRVSTREAMHEADER;
#include <poppack.h>

typedef struct _ACMDRVSTREAMSIZE {
    DWORD cbStruct;
    DWORD fdwSize;
    DWORD cbSrcLength;
    DWORD cbDstLength;
} ACMDRVSTREAMSIZE;

typedef struct _ACMDRVFORMATSUGGEST {
    DWORD cbStruct;
    DWORD fdwSuggest;
    PWAVEFORMATEX pwfxSrc;
    DWORD cbwfxSrc;
    PWAVEFORMATEX pwfxDst;
    DWORD cbwfxDst;
} ACMDRVFORMATSUGGEST;

#endif
