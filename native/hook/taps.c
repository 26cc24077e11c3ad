#include "taps.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "wildcard.h"

#define PATH_UNITS 4096
#define MAX_DRIVERS 64

typedef void (*forward_to_fn)(FARPROC proc);

typedef struct {
    HMODULE real;  /* the driver module; NULL for a function driver */
    FARPROC proc;  /* a function driver's function */
    HMODULE tap;   /* NULL: not recorded (not matching the pattern, or no tap could start) */
    FARPROC thunk; /* what the system gets for a function driver: the tap's DriverProc, or proc */
    LONG lookups;  /* DriverProc lookups not yet matched by a FreeLibrary: winmm does one of each per open */
} driver_t;

static WCHAR folder[PATH_UNITS]; /* the hook's, with a trailing backslash */
static size_t folder_units;
static WCHAR pattern[MAX_PATH];
static CRITICAL_SECTION lock;
static driver_t drivers[MAX_DRIVERS];
static int n_drivers;
static int n_started; /* taps started in this process: numbers their folders and tapes */

BOOL taps_configure(HINSTANCE self)
{
    InitializeCriticalSection(&lock);
    DWORD n = GetModuleFileNameW(self, folder, PATH_UNITS);
    WCHAR *slash = n > 0 && n < PATH_UNITS ? wcsrchr(folder, L'\\') : NULL;
    if (slash)
        slash[1] = 0;
    else
        folder[0] = 0;
    folder_units = wcslen(folder);
    WCHAR cfg[PATH_UNITS];
    _snwprintf(cfg, PATH_UNITS, L"%lsdrvhook.cfg", folder);
    cfg[PATH_UNITS - 1] = 0;
    HANDLE f = CreateFileW(cfg, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return FALSE;
    char text[2 * MAX_PATH];
    DWORD got = 0;
    BOOL children = FALSE;
    if (ReadFile(f, text, sizeof text - 1, &got, NULL)) {
        text[got] = 0;
        char *second = text + strcspn(text, "\n");
        if (*second)
            *second++ = 0;
        text[strcspn(text, "\r")] = 0;
        MultiByteToWideChar(CP_UTF8, 0, text, -1, pattern, MAX_PATH);
        children = strncmp(second, "children", 8) == 0;
    }
    CloseHandle(f);
    return children;
}

BOOL taps_own(const WCHAR *path)
{
    return folder_units && _wcsnicmp(path, folder, folder_units) == 0;
}

static BOOL write_cfg(const WCHAR *path, const WCHAR *real, const WCHAR *tape)
{
    static char text[2 * 4 * PATH_UNITS];
    int a = WideCharToMultiByte(CP_UTF8, 0, real, -1, text, sizeof text / 2, NULL, NULL);
    int b = a > 0 ? WideCharToMultiByte(CP_UTF8, 0, tape, -1, text + a, sizeof text / 2, NULL, NULL) : 0;
    if (b <= 0)
        return FALSE;
    text[a - 1] = '\n';
    text[a + b - 1] = '\n';
    HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return FALSE;
    DWORD wrote = 0;
    BOOL ok = WriteFile(f, text, (DWORD)(a + b), &wrote, NULL) && wrote == (DWORD)(a + b);
    CloseHandle(f);
    return ok;
}

/* A copy of the tap forwarding to the driver at real_path, recording to its own tape; NULL
   when the driver is not to be recorded or the copy cannot be made. */
static HMODULE start_tap(const WCHAR *real_path)
{
    const WCHAR *base = wcsrchr(real_path, L'\\');
    base = base ? base + 1 : real_path;
    if (pattern[0] && !wildcard_match(pattern, base))
        return NULL;
    WCHAR stem[MAX_PATH], dir[PATH_UNITS], tap[PATH_UNITS], cfg[PATH_UNITS], tape[PATH_UNITS], source[PATH_UNITS];
    lstrcpynW(stem, base, MAX_PATH);
    WCHAR *dot = wcsrchr(stem, L'.');
    if (dot && dot != stem)
        *dot = 0;
    DWORD pid = GetCurrentProcessId();
    int n = n_started++;
    _snwprintf(dir, PATH_UNITS, L"%lsd%lu.%d", folder, pid, n);
    _snwprintf(tap, PATH_UNITS, L"%ls\\drvtap.dll", dir);
    _snwprintf(cfg, PATH_UNITS, L"%ls\\drvtap.cfg", dir);
    _snwprintf(tape, PATH_UNITS, L"%ls%ls.%lu.%d.drvtape", folder, stem, pid, n);
    _snwprintf(source, PATH_UNITS, L"%lsdrvtap.dll", folder);
    tape[PATH_UNITS - 1] = tap[PATH_UNITS - 1] = cfg[PATH_UNITS - 1] = 0;
    if (!CreateDirectoryW(dir, NULL) || !CopyFileW(source, tap, TRUE) || !write_cfg(cfg, real_path, tape))
        return NULL;
    return LoadLibraryW(tap);
}

/* The table's entry for driver module real, or (real NULL) function driver proc, made (and its
   tap started) when there is none; NULL when the table is full. Under lock. */
static driver_t *entry_for(HMODULE real, FARPROC proc, const WCHAR *path)
{
    for (int i = 0; i < n_drivers; i++)
        if (real ? drivers[i].real == real : !drivers[i].real && drivers[i].proc == proc)
            return &drivers[i];
    if (n_drivers == MAX_DRIVERS)
        return NULL;
    HMODULE tap = path ? start_tap(path) : NULL;
    FARPROC tapped = tap ? GetProcAddress(tap, "DriverProc") : NULL;
    forward_to_fn forward = tap && !real ? (forward_to_fn)(void *)GetProcAddress(tap, "drvtap_forward_to") : NULL;
    if (forward)
        forward(proc);
    else if (!real)
        tapped = NULL; /* a tap without the function way in would forward to nothing */
    drivers[n_drivers] = (driver_t){real, proc, tapped ? tap : NULL, tapped ? tapped : proc, 0};
    return &drivers[n_drivers++];
}

FARPROC tap_module_lookup(HMODULE real, const char *name, FARPROC proc)
{
    WCHAR path[PATH_UNITS];
    DWORD n = GetModuleFileNameW(real, path, PATH_UNITS);
    BOOL driver_proc = strcmp(name, "DriverProc") == 0;
    EnterCriticalSection(&lock);
    driver_t *d = entry_for(real, NULL, n > 0 && n < PATH_UNITS ? path : NULL);
    HMODULE tap = d ? d->tap : NULL;
    if (d && driver_proc)
        d->lookups++;
    LeaveCriticalSection(&lock);
    FARPROC thunk = tap ? GetProcAddress(tap, name) : NULL; /* the hook's tap exports every entry point */
    return thunk ? thunk : proc;
}

void tap_module_freeing(HMODULE module)
{
    HMODULE tap = NULL;
    EnterCriticalSection(&lock);
    for (int i = 0; i < n_drivers; i++) {
        if (drivers[i].real == module && --drivers[i].lookups == 0) {
            tap = drivers[i].tap;
            drivers[i] = drivers[--n_drivers];
            break;
        }
    }
    LeaveCriticalSection(&lock);
    if (tap)
        FreeLibrary(tap);
}

LPARAM tap_function(LPARAM proc)
{
    HMODULE in = NULL;
    WCHAR path[PATH_UNITS];
    DWORD n = 0;
    if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                           (LPCWSTR)proc, &in))
        n = GetModuleFileNameW(in, path, PATH_UNITS);
    EnterCriticalSection(&lock);
    driver_t *d = entry_for(NULL, (FARPROC)proc, n > 0 && n < PATH_UNITS ? path : NULL);
    LPARAM thunk = d ? (LPARAM)d->thunk : proc;
    LeaveCriticalSection(&lock);
    return thunk;
}
