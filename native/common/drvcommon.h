/*
 * What drvhost (the replay host) and drvtap (the recording proxy) both need: the
 * DriverProc signature (mmsystem.h's DRIVERPROC) and the device entry points', the
 * QueryPerformanceCounter reading, and
 * the module+offset of a code address (how a fault's place is told in the tape and in the
 * host protocol). Static inline, so each binary stays one translation unit.
 * drvtape/dllhost/build.py puts this folder on the include path and in the build hash.
 */
#ifndef DRVCOMMON_H
#define DRVCOMMON_H

#include <windows.h>
#include <mmsystem.h>
#include <stdint.h>

/* A driver's entry points, by the codes tapes and the host protocol use
   (drvtape/schema/entry_points.py). The device ones are what winmm calls a wave, MIDI, mixer
   or aux driver's wodMessage ... auxMessage with (Wine's winmm: WINEMM_msgFunc32). */
enum { ENTRY_DRIVERPROC, ENTRY_WOD, ENTRY_WID, ENTRY_MOD, ENTRY_MID, ENTRY_MXD, ENTRY_AUX, ENTRY_POINTS };
typedef DWORD(CALLBACK *DEVICEPROC)(UINT device, UINT msg, DWORD_PTR user, DWORD_PTR p1, DWORD_PTR p2);

static inline const char *device_entry_name(unsigned entry)
{
    static const char *const names[ENTRY_POINTS] = {"DriverProc", "wodMessage", "widMessage", "modMessage",
                                                    "midMessage", "mxdMessage", "auxMessage"};
    return entry < ENTRY_POINTS ? names[entry] : NULL;
}

/* The message that opens a device of entry point `entry` (mmddk.h: WODM_OPEN 5, WIDM_OPEN 52,
   MODM_OPEN 3, MIDM_OPEN 55, MXDM_OPEN 3; aux devices are never opened): the driver stores
   its instance at the DWORD_PTR dwUser points at. 0: none. */
static inline UINT device_open_msg(unsigned entry)
{
    static const UINT opens[ENTRY_POINTS] = {0, 5, 52, 3, 55, 3, 0};
    return entry < ENTRY_POINTS ? opens[entry] : 0;
}

static inline uint64_t qpc_now(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    return (uint64_t)t.QuadPart;
}

/* The offset of addr in the module holding it, and that module's file name (no folder)
   into name; when addr is in no module: addr itself, and an empty name. */
static inline uint64_t module_offset(uintptr_t addr, WCHAR *name, size_t name_units)
{
    HMODULE mod = NULL;
    WCHAR path[MAX_PATH];
    name[0] = 0;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)addr, &mod) ||
        !GetModuleFileNameW(mod, path, MAX_PATH))
        return addr;
    path[MAX_PATH - 1] = 0;
    const WCHAR *base = path;
    for (const WCHAR *p = path; *p; p++)
        if (*p == L'\\' || *p == L'/')
            base = p + 1;
    lstrcpynW(name, base, (int)name_units);
    return addr - (uintptr_t)mod;
}

#endif
