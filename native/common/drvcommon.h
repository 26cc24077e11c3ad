/*
 * What drvhost (the replay host) and drvtap (the recording proxy) both need: the
 * DriverProc signature (mmsystem.h's DRIVERPROC), the QueryPerformanceCounter reading, and
 * the module+offset of a code address (how a fault's place is told in the tape and in the
 * host protocol). Static inline, so each binary stays one translation unit.
 * drvtape/dllhost/build.py puts this folder on the include path and in the build hash.
 */
#ifndef DRVCOMMON_H
#define DRVCOMMON_H

#include <windows.h>
#include <mmsystem.h>
#include <stdint.h>

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
