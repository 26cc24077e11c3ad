/* Drives a wave/MIDI driver the way winmm does, without winmm: LoadLibrary, GetProcAddress
   of DriverProc and each device entry point, DRV_LOAD/ENABLE/OPEN, then every entry point
   the DLL has gets DRVM_INIT and its GETNUMDEVS and GETDEVCAPS; wodMessage plays one
   buffer (OPEN, PREPARE, WRITE, GETPOS, UNPREPARE, CLOSE), modMessage three short messages
   and one long one (OPEN, DATA, PREPARE, LONGDATA, UNPREPARE, GETVOLUME, CLOSE); then
   DRV_CLOSE/DISABLE/FREE and FreeLibrary. Opens pass CALLBACK_NULL.
   Usage: deviceclient DLL [no-close]   (no-close: the wave device is never closed)
   Prints each entry point found or missing, then one line per answer. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <mmddk.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

typedef DWORD(WINAPI *device_proc)(UINT, UINT, DWORD_PTR, DWORD_PTR, DWORD_PTR);
static const char *const names[] = {"wodMessage", "widMessage", "modMessage", "midMessage", "mxdMessage",
                                    "auxMessage"};

static void play_wave(device_proc wod, BOOL close)
{
    WAVEFORMATEX pcm = {WAVE_FORMAT_PCM, 1, 8000, 16000, 2, 16, 0};
    WAVEOPENDESC desc = {(HWAVE)(UINT_PTR)0x77, (LPWAVEFORMAT)&pcm, 0, 0, 0, 0};
    static char samples[4000];
    for (int i = 0; i < (int)sizeof samples; i++)
        samples[i] = (char)(i * 7 + i / 13);
    WAVEHDR hdr = {samples, sizeof samples, 0, 0, 0, 0, NULL, 0};
    MMTIME pos = {TIME_BYTES, {0}};
    DWORD_PTR instance = 0;
    DWORD r = wod(0, WODM_OPEN, (DWORD_PTR)&instance, (DWORD_PTR)&desc, CALLBACK_NULL);
    printf("WODM_OPEN %lu\n", r);
    r = wod(0, WODM_PREPARE, instance, (DWORD_PTR)&hdr, sizeof hdr);
    printf("WODM_PREPARE %lu flags 0x%lx\n", r, hdr.dwFlags);
    r = wod(0, WODM_WRITE, instance, (DWORD_PTR)&hdr, sizeof hdr);
    printf("WODM_WRITE %lu flags 0x%lx\n", r, hdr.dwFlags);
    r = wod(0, WODM_GETPOS, instance, (DWORD_PTR)&pos, sizeof pos);
    printf("WODM_GETPOS %lu bytes %lu\n", r, pos.u.cb);
    r = wod(0, WODM_UNPREPARE, instance, (DWORD_PTR)&hdr, sizeof hdr);
    printf("WODM_UNPREPARE %lu flags 0x%lx\n", r, hdr.dwFlags);
    if (close)
        printf("WODM_CLOSE %lu\n", wod(0, WODM_CLOSE, instance, 0, 0));
}

static void play_midi(device_proc mod)
{
    MIDIOPENDESC desc = {(HMIDI)(UINT_PTR)0x78, 0, 0, 0, 0, {{0, 0}}};
    static char sysex[] = {(char)0xF0, 0x7E, 0x7F, 0x09, 0x01, (char)0xF7};
    MIDIHDR hdr = {sysex, sizeof sysex, 0, 0, 0, NULL, 0, 0, {0}};
    DWORD_PTR instance = 0;
    DWORD volume = 0;
    printf("MODM_OPEN %lu\n", mod(0, MODM_OPEN, (DWORD_PTR)&instance, (DWORD_PTR)&desc, CALLBACK_NULL));
    for (DWORD note = 60; note < 63; note++)
        printf("MODM_DATA %lu\n", mod(0, MODM_DATA, instance, 0x7F0090 | note << 8, 0));
    printf("MODM_PREPARE %lu\n", mod(0, MODM_PREPARE, instance, (DWORD_PTR)&hdr, sizeof hdr));
    DWORD r = mod(0, MODM_LONGDATA, instance, (DWORD_PTR)&hdr, sizeof hdr);
    printf("MODM_LONGDATA %lu flags 0x%lx\n", r, hdr.dwFlags);
    printf("MODM_UNPREPARE %lu\n", mod(0, MODM_UNPREPARE, instance, (DWORD_PTR)&hdr, sizeof hdr));
    r = mod(0, MODM_GETVOLUME, instance, (DWORD_PTR)&volume, 0);
    printf("MODM_GETVOLUME %lu hash 0x%08lx\n", r, volume);
    printf("MODM_CLOSE %lu\n", mod(0, MODM_CLOSE, instance, 0, 0));
}

/* GETNUMDEVS and GETDEVCAPS of entry point e (mmddk.h: each class's codes; aux's as wave out's) */
static void query(int e, device_proc proc)
{
    static const UINT numdevs[] = {WODM_GETNUMDEVS, WIDM_GETNUMDEVS, MODM_GETNUMDEVS, MIDM_GETNUMDEVS,
                                   MXDM_GETNUMDEVS, AUXDM_GETNUMDEVS};
    BYTE caps[256] = {0};
    printf("%s DRVM_INIT %lu\n", names[e], proc(0, DRVM_INIT, 0, 0, 0));
    printf("%s GETNUMDEVS %lu\n", names[e], proc(0, numdevs[e], 0, 0, 0));
    DWORD r = proc(0, numdevs[e] + 1, 0, (DWORD_PTR)caps, sizeof caps);
    printf("%s GETDEVCAPS %lu name %ls\n", names[e], r, (const WCHAR *)(caps + 8));
}

int wmain(int argc, WCHAR **argv)
{
    if (argc < 2)
        return 2;
    BOOL close = !(argc > 2 && wcscmp(argv[2], L"no-close") == 0);
    setvbuf(stdout, NULL, _IONBF, 0);
    HMODULE dll = LoadLibraryW(argv[1]);
    if (!dll) {
        printf("LoadLibrary failed %lu\n", GetLastError());
        return 1;
    }
    DRIVERPROC proc = (DRIVERPROC)(void *)GetProcAddress(dll, "DriverProc");
    device_proc entries[6];
    for (int e = 0; e < 6; e++) {
        entries[e] = (device_proc)(void *)GetProcAddress(dll, names[e]);
        printf("%s %s\n", names[e], entries[e] ? "exported" : "missing");
    }
    if (!proc)
        return 1;
    HDRVR hdrvr = (HDRVR)(UINT_PTR)0x1001;
    printf("DRV_LOAD %ld\n", (long)proc(0, hdrvr, DRV_LOAD, 0, 0));
    printf("DRV_ENABLE %ld\n", (long)proc(0, hdrvr, DRV_ENABLE, 0, 0));
    DWORD_PTR id = (DWORD_PTR)proc(0, hdrvr, DRV_OPEN, 0, 0);
    printf("DRV_OPEN 0x%llx\n", (unsigned long long)id);
    for (int e = 0; e < 6; e++)
        if (entries[e])
            query(e, entries[e]);
    if (entries[0])
        play_wave(entries[0], close);
    if (entries[2])
        play_midi(entries[2]);
    printf("DRV_CLOSE %ld\n", (long)proc(id, hdrvr, DRV_CLOSE, 0, 0));
    printf("DRV_DISABLE %ld\n", (long)proc(id, hdrvr, DRV_DISABLE, 0, 0));
    printf("DRV_FREE %ld\n", (long)proc(id, hdrvr, DRV_FREE, 0, 0));
    FreeLibrary(dll);
    return 0;
}
