/* A wave and MIDI output driver: DriverProc plus wodMessage and modMessage (no widMessage,
   midMessage, mxdMessage, auxMessage), one device each. What it answers depends only on
   what it was sent: an open stores a fresh instance at dwUser; WODM_WRITE, MODM_DATA and
   MODM_LONGDATA fold the bytes into the instance's hash, which WODM_GETPOS (as bytes
   played) and MODM_GETVOLUME report. Callbacks are never called. */
#include "driverproc.h"
#include <mmddk.h>
#include <string.h>

#define DEVICE_EXPORT __declspec(dllexport) DWORD WINAPI

typedef struct {
    DWORD hash, bytes;
} instance_t;

static DWORD fold(DWORD hash, const BYTE *p, DWORD n)
{
    for (DWORD i = 0; i < n; i++)
        hash = (hash ^ p[i]) * 16777619u;
    return hash;
}

static DWORD open_instance(DWORD_PTR user)
{
    instance_t *inst = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *inst);
    if (!inst)
        return MMSYSERR_NOMEM;
    inst->hash = 2166136261u;
    *(DWORD_PTR *)user = (DWORD_PTR)inst;
    return MMSYSERR_NOERROR;
}

static void fill_name(WCHAR *name, const WCHAR *text)
{
    lstrcpynW(name, text, MAXPNAMELEN);
}

static DWORD caps(void *out, DWORD_PTR size, const void *mine, size_t mine_size)
{
    memcpy(out, mine, size < mine_size ? size : mine_size);
    return MMSYSERR_NOERROR;
}

DEVICE_EXPORT wodMessage(UINT device, UINT msg, DWORD_PTR user, DWORD_PTR p1, DWORD_PTR p2)
{
    instance_t *inst = (instance_t *)user;
    WAVEHDR *hdr = (WAVEHDR *)p1;
    if (msg != WODM_GETNUMDEVS && msg != DRVM_INIT && device != 0)
        return MMSYSERR_BADDEVICEID;
    switch (msg) {
    case DRVM_INIT:
        return MMSYSERR_NOERROR;
    case WODM_GETNUMDEVS:
        return 1;
    case WODM_GETDEVCAPS: {
        WAVEOUTCAPSW c = {.wMid = 0xFF, .wPid = 1, .vDriverVersion = 0x0100, .dwFormats = WAVE_FORMAT_4M16,
                          .wChannels = 1, .dwSupport = WAVECAPS_VOLUME};
        fill_name(c.szPname, L"drvtape test wave");
        return caps((void *)p1, p2, &c, sizeof c);
    }
    case WODM_OPEN: {
        const WAVEOPENDESC *desc = (const WAVEOPENDESC *)p1;
        if (desc->lpFormat->wFormatTag != WAVE_FORMAT_PCM)
            return WAVERR_BADFORMAT;
        return (p2 & WAVE_FORMAT_QUERY) ? MMSYSERR_NOERROR : open_instance(user);
    }
    case WODM_PREPARE:
        hdr->dwFlags |= WHDR_PREPARED;
        return MMSYSERR_NOERROR;
    case WODM_UNPREPARE:
        hdr->dwFlags &= ~WHDR_PREPARED;
        return MMSYSERR_NOERROR;
    case WODM_WRITE:
        if (!(hdr->dwFlags & WHDR_PREPARED))
            return WAVERR_UNPREPARED;
        inst->hash = fold(inst->hash, (const BYTE *)hdr->lpData, hdr->dwBufferLength);
        inst->bytes += hdr->dwBufferLength;
        hdr->dwFlags |= WHDR_DONE;
        return MMSYSERR_NOERROR;
    case WODM_GETPOS: {
        MMTIME *t = (MMTIME *)p1;
        t->wType = TIME_BYTES;
        t->u.cb = inst->bytes;
        return MMSYSERR_NOERROR;
    }
    case WODM_CLOSE:
        HeapFree(GetProcessHeap(), 0, inst);
        return MMSYSERR_NOERROR;
    }
    return MMSYSERR_NOTSUPPORTED;
}

DEVICE_EXPORT modMessage(UINT device, UINT msg, DWORD_PTR user, DWORD_PTR p1, DWORD_PTR p2)
{
    instance_t *inst = (instance_t *)user;
    MIDIHDR *hdr = (MIDIHDR *)p1;
    if (msg != MODM_GETNUMDEVS && msg != DRVM_INIT && device != 0)
        return MMSYSERR_BADDEVICEID;
    switch (msg) {
    case DRVM_INIT:
        return MMSYSERR_NOERROR;
    case MODM_GETNUMDEVS:
        return 1;
    case MODM_GETDEVCAPS: {
        MIDIOUTCAPSW c = {.wMid = 0xFF, .wPid = 2, .vDriverVersion = 0x0100, .wTechnology = MOD_SYNTH,
                          .wVoices = 16, .wNotes = 16, .wChannelMask = 0xFFFF};
        fill_name(c.szPname, L"drvtape test synth");
        return caps((void *)p1, p2, &c, sizeof c);
    }
    case MODM_OPEN:
        return open_instance(user);
    case MODM_DATA:
        inst->hash = fold(inst->hash, (const BYTE *)&p1, 4);
        return MMSYSERR_NOERROR;
    case MODM_PREPARE:
        hdr->dwFlags |= MHDR_PREPARED;
        return MMSYSERR_NOERROR;
    case MODM_UNPREPARE:
        hdr->dwFlags &= ~MHDR_PREPARED;
        return MMSYSERR_NOERROR;
    case MODM_LONGDATA:
        if (!(hdr->dwFlags & MHDR_PREPARED))
            return MIDIERR_UNPREPARED;
        inst->hash = fold(inst->hash, (const BYTE *)hdr->lpData, hdr->dwBufferLength);
        hdr->dwFlags |= MHDR_DONE;
        return MMSYSERR_NOERROR;
    case MODM_GETVOLUME:
        *(DWORD *)p1 = inst->hash;
        return MMSYSERR_NOERROR;
    case MODM_CLOSE:
        HeapFree(GetProcessHeap(), 0, inst);
        return MMSYSERR_NOERROR;
    }
    return MMSYSERR_NOTSUPPORTED;
}

DRIVERPROC_EXPORT DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    (void)id, (void)hdrvr, (void)l1, (void)l2;
    switch (msg) {
    case DRV_LOAD:
    case DRV_ENABLE:
    case DRV_CLOSE:
    case DRV_DISABLE:
    case DRV_FREE:
        return 1;
    case DRV_OPEN:
        return 0x4D44; /* 'DM' */
    }
    return 0;
}
