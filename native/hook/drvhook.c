/*
 * drvhook: the recording hook, loaded into one process by hooklaunch before the program's
 * first instruction. It points the GetProcAddress imports of winmm, msacm32 and msvfw32 (the
 * modules that look up a driver's entry points) at hooked_get_proc_address, for this process
 * only, now for those loaded and as the others load (LdrRegisterDllNotification). A lookup of
 * "DriverProc" in a driver module gets, instead of the real DriverProc, the DriverProc of a
 * copy of drvtap.dll that forwards to it: the tap records the driver's session exactly as
 * when an alias points at it (one implementation, two ways in: the tap is the thunk).
 *
 * Files (all in the folder of drvhook.dll, which `drvtape hook run` makes per run):
 *   drvtap.dll       the tap, copied to d<N>\drvtap.dll for the N-th driver of the process,
 *                    with a d<N>\drvtap.cfg naming the real driver and the tape (a separate
 *                    copy per driver: the tap holds one driver and one tape)
 *   drvhook.cfg      optional; line 1: a pattern (* and ?, case-insensitive) a driver's file
 *                    name must match to be recorded
 *   <name>.<pid>.<N>.drvtape   the tapes
 * Nothing else is written; GetLastError is what the real GetProcAddress left.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "iat.h"
#include "wildcard.h"

#define PATH_UNITS 4096
#define MAX_DRIVERS 64

typedef struct {
    HMODULE real;
    HMODULE tap; /* NULL: the driver is not recorded (not matching the pattern, or no tap) */
    FARPROC thunk;
    LONG lookups; /* DriverProc lookups not yet matched by a FreeLibrary: winmm does one of each per open */
} driver_t;

static HINSTANCE self;
static WCHAR folder[PATH_UNITS]; /* drvhook.dll's, with a trailing backslash */
static WCHAR pattern[MAX_PATH];
static CRITICAL_SECTION drivers_lock;
static driver_t drivers[MAX_DRIVERS];
static int n_drivers;
static int n_started; /* taps started in this process: numbers the folders and tapes */
static const char *const LOOKERS[] = {"winmm.dll", "msacm32.dll", "msvfw32.dll"};

static BOOL write_utf8_lines(const WCHAR *path, const WCHAR *first, const WCHAR *second)
{
    static char text[4 * 2 * PATH_UNITS + 4];
    int a = WideCharToMultiByte(CP_UTF8, 0, first, -1, text, sizeof text / 2, NULL, NULL);
    if (a <= 0)
        return FALSE;
    text[a - 1] = '\n';
    int b = WideCharToMultiByte(CP_UTF8, 0, second, -1, text + a, sizeof text / 2, NULL, NULL);
    if (b <= 0)
        return FALSE;
    text[a + b - 1] = '\n';
    HANDLE f = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return FALSE;
    DWORD wrote = 0;
    BOOL ok = WriteFile(f, text, (DWORD)(a + b), &wrote, NULL) && wrote == (DWORD)(a + b);
    CloseHandle(f);
    return ok;
}

/* A copy of the tap forwarding to the driver at real_path, recording to its own tape. */
static HMODULE start_tap(const WCHAR *real_path, int index)
{
    WCHAR dir[PATH_UNITS], tap[PATH_UNITS], cfg[PATH_UNITS], tape[PATH_UNITS], source[PATH_UNITS];
    const WCHAR *base = wcsrchr(real_path, L'\\');
    WCHAR stem[MAX_PATH];
    lstrcpynW(stem, base ? base + 1 : real_path, MAX_PATH);
    WCHAR *dot = wcsrchr(stem, L'.');
    if (dot && dot != stem)
        *dot = 0;
    _snwprintf(dir, PATH_UNITS, L"%lsd%lu.%d", folder, GetCurrentProcessId(), index);
    _snwprintf(tap, PATH_UNITS, L"%ls\\drvtap.dll", dir);
    _snwprintf(cfg, PATH_UNITS, L"%ls\\drvtap.cfg", dir);
    _snwprintf(tape, PATH_UNITS, L"%ls%ls.%lu.%d.drvtape", folder, stem, GetCurrentProcessId(), index);
    _snwprintf(source, PATH_UNITS, L"%lsdrvtap.dll", folder);
    if (!CreateDirectoryW(dir, NULL) || !CopyFileW(source, tap, TRUE) || !write_utf8_lines(cfg, real_path, tape))
        return NULL;
    return LoadLibraryW(tap);
}

static BOOL wanted(const WCHAR *real_path)
{
    const WCHAR *base = wcsrchr(real_path, L'\\');
    return !pattern[0] || wildcard_match(pattern, base ? base + 1 : real_path);
}

/* The thunk for the driver module real (its DriverProc is proc): one tap per loading of the
   module, until the module is freed. */
static FARPROC thunk_for(HMODULE real, FARPROC proc)
{
    FARPROC thunk = NULL;
    EnterCriticalSection(&drivers_lock);
    for (int i = 0; i < n_drivers && !thunk; i++) {
        if (drivers[i].real == real) {
            thunk = drivers[i].thunk;
            drivers[i].lookups++;
        }
    }
    if (!thunk && n_drivers < MAX_DRIVERS) {
        WCHAR path[PATH_UNITS];
        DWORD n = GetModuleFileNameW(real, path, PATH_UNITS);
        HMODULE tap = n > 0 && n < PATH_UNITS && wanted(path) ? start_tap(path, n_started++) : NULL;
        FARPROC tapped = tap ? GetProcAddress(tap, "DriverProc") : NULL;
        thunk = tapped ? tapped : proc;
        drivers[n_drivers++] = (driver_t){real, tapped ? tap : NULL, thunk, 1};
    }
    LeaveCriticalSection(&drivers_lock);
    return thunk ? thunk : proc;
}

/* winmm loads a driver module once per open and frees it once per close: when the last of
   those frees comes, the tap goes first (as a tap an alias points at is freed by the system
   then), which frees its own reference to the driver and ends the session; the module is
   then freed as it would be without the hook. */
static BOOL WINAPI hooked_free_library(HMODULE module)
{
    HMODULE tap = NULL;
    EnterCriticalSection(&drivers_lock);
    for (int i = 0; i < n_drivers; i++) {
        if (drivers[i].real == module && --drivers[i].lookups == 0) {
            tap = drivers[i].tap;
            drivers[i] = drivers[--n_drivers];
            break;
        }
    }
    LeaveCriticalSection(&drivers_lock);
    if (tap) {
        DWORD last_error = GetLastError();
        FreeLibrary(tap);
        SetLastError(last_error);
    }
    return FreeLibrary(module);
}

static FARPROC WINAPI hooked_get_proc_address(HMODULE module, LPCSTR name)
{
    FARPROC proc = GetProcAddress(module, name);
    if (!proc || IS_INTRESOURCE(name) || strcmp(name, "DriverProc") != 0)
        return proc;
    DWORD last_error = GetLastError();
    FARPROC thunk = thunk_for(module, proc);
    SetLastError(last_error);
    return thunk;
}

static void hook_module(HMODULE module, const WCHAR *base_name)
{
    for (size_t i = 0; i < ARRAYSIZE(LOOKERS); i++) {
        WCHAR wide[32];
        MultiByteToWideChar(CP_ACP, 0, LOOKERS[i], -1, wide, ARRAYSIZE(wide));
        if (lstrcmpiW(base_name, wide) == 0) {
            iat_replace(module, "kernel32.dll", "GetProcAddress", (void *)hooked_get_proc_address);
            iat_replace(module, "kernel32.dll", "FreeLibrary", (void *)hooked_free_library);
        }
    }
}

/* ---- modules loaded later: the loader's notification ---------------------------------- */

typedef struct {
    USHORT Length, MaximumLength;
    PWSTR Buffer;
} unicode_string_t;

typedef struct { /* LDR_DLL_LOADED_NOTIFICATION_DATA */
    ULONG Flags;
    const unicode_string_t *FullDllName;
    const unicode_string_t *BaseDllName;
    PVOID DllBase;
    ULONG SizeOfImage;
} dll_loaded_t;

#define LDR_DLL_NOTIFICATION_REASON_LOADED 1
typedef VOID(CALLBACK *dll_notification_fn)(ULONG reason, const dll_loaded_t *data, PVOID context);
typedef LONG(NTAPI *register_fn)(ULONG flags, dll_notification_fn callback, PVOID context, PVOID *cookie);

static VOID CALLBACK on_dll_loaded(ULONG reason, const dll_loaded_t *data, PVOID context)
{
    (void)context;
    if (reason != LDR_DLL_NOTIFICATION_REASON_LOADED || !data->BaseDllName || !data->BaseDllName->Buffer)
        return;
    WCHAR name[MAX_PATH];
    size_t units = data->BaseDllName->Length / sizeof(WCHAR);
    if (units >= MAX_PATH)
        return;
    memcpy(name, data->BaseDllName->Buffer, units * sizeof(WCHAR));
    name[units] = 0;
    hook_module((HMODULE)data->DllBase, name);
}

static void configure(void)
{
    DWORD n = GetModuleFileNameW(self, folder, PATH_UNITS);
    WCHAR *slash = n > 0 && n < PATH_UNITS ? wcsrchr(folder, L'\\') : NULL;
    if (slash)
        slash[1] = 0;
    else
        folder[0] = 0;
    WCHAR cfg[PATH_UNITS];
    _snwprintf(cfg, PATH_UNITS, L"%lsdrvhook.cfg", folder);
    HANDLE f = CreateFileW(cfg, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return;
    char text[MAX_PATH];
    DWORD got = 0;
    if (ReadFile(f, text, sizeof text - 1, &got, NULL)) {
        text[got] = 0;
        text[strcspn(text, "\r\n")] = 0;
        MultiByteToWideChar(CP_UTF8, 0, text, -1, pattern, MAX_PATH);
    }
    CloseHandle(f);
}

static void install(void)
{
    static PVOID cookie;
    configure();
    for (size_t i = 0; i < ARRAYSIZE(LOOKERS); i++) {
        HMODULE loaded = GetModuleHandleA(LOOKERS[i]);
        WCHAR wide[32];
        MultiByteToWideChar(CP_ACP, 0, LOOKERS[i], -1, wide, ARRAYSIZE(wide));
        if (loaded)
            hook_module(loaded, wide);
    }
    register_fn reg = (register_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "LdrRegisterDllNotification");
    if (reg)
        reg(0, on_dll_loaded, NULL, &cookie);
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        self = inst;
        DisableThreadLibraryCalls(inst);
        InitializeCriticalSection(&drivers_lock);
        install();
    }
    return TRUE;
}
