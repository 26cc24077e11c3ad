/*
 * drvhook: the recording hook, loaded into one process by hooklaunch before the program's
 * first instruction. For this process only, it changes import address table entries
 * (iat.h), of the modules loaded now and of those loaded later (LdrRegisterDllNotification):
 *   - in winmm, msacm32 and msvfw32 (the modules that load drivers and look up their entry
 *     points), GetProcAddress and FreeLibrary: a lookup of "DriverProc", or of a device entry
 *     point (wodMessage ... auxMessage, which winmm looks up in its MMDRV drivers), in a
 *     driver module gets that entry point of a tap forwarding to it (taps.h), and the
 *     driver's last FreeLibrary frees its tap first. This covers every driver those modules
 *     load by alias (Drivers32) or by path: OpenDriver, ICOpen, acmDriverOpen.
 *   - in every other module, msacm32!acmDriverAddA/W and msvfw32!ICInstall, imported or
 *     looked up with GetProcAddress: a function driver (ACM_DRIVERADDF_FUNCTION,
 *     ICINSTALL_FUNCTION) is given to the system as its tap's DriverProc; with "children"
 *     in drvhook.cfg, CreateProcessA/W too, to load the hook into child processes (children.h).
 * kernel32's functions are patched however a module imports them: from kernel32, or from an
 * API set hosted by kernel32 or kernelbase (iat.h).
 * The tap is drvtap.dll itself (one implementation, two ways in), so the tapes are the tap's.
 * Return values and GetLastError are the real functions'.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <mmreg.h>
#include <msacm.h>
#include <vfw.h>
#define PSAPI_VERSION 2 /* K32EnumProcessModules: kernel32's, no psapi.dll */
#include <psapi.h>
#include <string.h>
#include <wchar.h>

#include "children.h"
#include "drvcommon.h"
#include "iat.h"
#include "taps.h"

#define PATH_UNITS 4096

typedef MMRESULT(WINAPI *acm_add_fn)(HACMDRIVERID *, HINSTANCE, LPARAM, DWORD, DWORD);
typedef BOOL(WINAPI *ic_install_fn)(DWORD, DWORD, LPARAM, LPSTR, UINT);

static const WCHAR *const LOOKERS[] = {L"winmm.dll", L"msacm32.dll", L"msvfw32.dll"};
static BOOL follow_children;

static FARPROC real_export(const WCHAR *dll, const char *name)
{
    HMODULE module = GetModuleHandleW(dll);
    return module ? GetProcAddress(module, name) : NULL;
}

/* ---- the lookers: drivers by alias and by path -------------------------------------- */

static BOOL is_entry_point(const char *name)
{
    for (unsigned e = 0; e < ENTRY_POINTS; e++)
        if (strcmp(name, device_entry_name(e)) == 0)
            return TRUE;
    return FALSE;
}

static FARPROC WINAPI looker_get_proc_address(HMODULE module, LPCSTR name)
{
    FARPROC proc = GetProcAddress(module, name);
    if (!proc || IS_INTRESOURCE(name) || !is_entry_point(name))
        return proc;
    DWORD last_error = GetLastError();
    FARPROC thunk = tap_module_lookup(module, name, proc);
    SetLastError(last_error);
    return thunk;
}

static BOOL WINAPI looker_free_library(HMODULE module)
{
    DWORD last_error = GetLastError();
    tap_module_freeing(module);
    SetLastError(last_error);
    return FreeLibrary(module);
}

/* ---- the clients: function drivers --------------------------------------------------- */

static MMRESULT add_function(const char *name, HACMDRIVERID *id, HINSTANCE module, LPARAM l, DWORD priority,
                             DWORD flags)
{
    acm_add_fn add = (acm_add_fn)(void *)real_export(L"msacm32.dll", name);
    if ((flags & ACM_DRIVERADDF_TYPEMASK) == ACM_DRIVERADDF_FUNCTION && l) {
        DWORD last_error = GetLastError();
        l = tap_function(l);
        SetLastError(last_error);
    }
    return add(id, module, l, priority, flags);
}

static MMRESULT WINAPI hooked_acm_driver_add_a(HACMDRIVERID *id, HINSTANCE module, LPARAM l, DWORD priority,
                                               DWORD flags)
{
    return add_function("acmDriverAddA", id, module, l, priority, flags);
}

static MMRESULT WINAPI hooked_acm_driver_add_w(HACMDRIVERID *id, HINSTANCE module, LPARAM l, DWORD priority,
                                               DWORD flags)
{
    return add_function("acmDriverAddW", id, module, l, priority, flags);
}

static BOOL WINAPI hooked_ic_install(DWORD type, DWORD handler, LPARAM l, LPSTR desc, UINT flags)
{
    ic_install_fn install = (ic_install_fn)(void *)real_export(L"msvfw32.dll", "ICInstall");
    if ((flags & ICINSTALL_FUNCTION) && l) {
        DWORD last_error = GetLastError();
        l = tap_function(l);
        SetLastError(last_error);
    }
    return install(type, handler, l, desc, flags);
}

static const struct {
    const WCHAR *dll;
    const char *name;
    void *replacement;
} CLIENT_HOOKS[] = {
    {L"msacm32.dll", "acmDriverAddA", (void *)hooked_acm_driver_add_a},
    {L"msacm32.dll", "acmDriverAddW", (void *)hooked_acm_driver_add_w},
    {L"msvfw32.dll", "ICInstall", (void *)hooked_ic_install},
};

static FARPROC WINAPI client_get_proc_address(HMODULE module, LPCSTR name)
{
    FARPROC proc = GetProcAddress(module, name);
    if (!proc || IS_INTRESOURCE(name))
        return proc;
    for (size_t i = 0; i < ARRAYSIZE(CLIENT_HOOKS); i++)
        if (strcmp(name, CLIENT_HOOKS[i].name) == 0 && module == GetModuleHandleW(CLIENT_HOOKS[i].dll))
            return (FARPROC)CLIENT_HOOKS[i].replacement;
    return proc;
}

/* ---- which module gets which ----------------------------------------------------------- */

/* The modules kernel32's functions come from: kernel32, and kernelbase, which hosts API sets
   that export them (Wine 8.0: api-ms-win-core-libraryloader-l1-* resolves to kernelbase,
   api-ms-win-core-processthreads-l1-* to kernel32; checked). Neither is patched itself: their
   imports of each other are how our replacements reach the real functions. */
static HMODULE kernel_hosts[2];

static size_t add_kernel_patch(iat_patch_t *patches, size_t n, const char *name, void *replacement)
{
    for (size_t i = 0; i < ARRAYSIZE(kernel_hosts); i++)
        patches[n++] = (iat_patch_t){kernel_hosts[i], name, replacement};
    return n;
}

static BOOL is_looker(const WCHAR *path)
{
    const WCHAR *slash = wcsrchr(path, L'\\');
    const WCHAR *base = slash ? slash + 1 : path;
    for (size_t i = 0; i < ARRAYSIZE(LOOKERS); i++)
        if (lstrcmpiW(base, LOOKERS[i]) == 0)
            return TRUE;
    return FALSE;
}

static void hook_module(HMODULE module, const WCHAR *path)
{
    if (taps_own(path) || module == kernel_hosts[0] || module == kernel_hosts[1])
        return;
    iat_patch_t patches[3 * ARRAYSIZE(kernel_hosts) + ARRAYSIZE(CLIENT_HOOKS)]; /* 3: a client's kernel32 ones */
    size_t n = 0;
    if (is_looker(path)) {
        n = add_kernel_patch(patches, n, "GetProcAddress", (void *)looker_get_proc_address);
        n = add_kernel_patch(patches, n, "FreeLibrary", (void *)looker_free_library);
    } else {
        n = add_kernel_patch(patches, n, "GetProcAddress", (void *)client_get_proc_address);
        if (follow_children) {
            n = add_kernel_patch(patches, n, "CreateProcessA", (void *)hooked_create_process_a);
            n = add_kernel_patch(patches, n, "CreateProcessW", (void *)hooked_create_process_w);
        }
        for (size_t i = 0; i < ARRAYSIZE(CLIENT_HOOKS); i++)
            patches[n++] = (iat_patch_t){GetModuleHandleW(CLIENT_HOOKS[i].dll), CLIENT_HOOKS[i].name,
                                         CLIENT_HOOKS[i].replacement};
    }
    iat_patch(module, patches, n);
}

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
    const unicode_string_t *name = data ? data->FullDllName : NULL;
    if (reason != LDR_DLL_NOTIFICATION_REASON_LOADED || !name || !name->Buffer)
        return;
    WCHAR path[PATH_UNITS];
    size_t units = name->Length / sizeof(WCHAR);
    if (units >= PATH_UNITS)
        return;
    memcpy(path, name->Buffer, units * sizeof(WCHAR));
    path[units] = 0;
    hook_module((HMODULE)data->DllBase, path);
}

static void install(HINSTANCE self)
{
    static PVOID cookie;
    static HMODULE loaded[1024];
    static WCHAR path[PATH_UNITS];
    follow_children = taps_configure(self);
    kernel_hosts[0] = GetModuleHandleW(L"kernel32.dll");
    kernel_hosts[1] = GetModuleHandleW(L"kernelbase.dll");
    children_configure(self);
    register_fn reg = (register_fn)(void *)real_export(L"ntdll.dll", "LdrRegisterDllNotification");
    if (reg)
        reg(0, on_dll_loaded, NULL, &cookie);
    DWORD bytes = 0;
    if (!K32EnumProcessModules(GetCurrentProcess(), loaded, sizeof loaded, &bytes))
        return;
    for (DWORD i = 0; i < bytes / sizeof loaded[0] && i < ARRAYSIZE(loaded); i++) {
        DWORD n = GetModuleFileNameW(loaded[i], path, PATH_UNITS);
        if (n > 0 && n < PATH_UNITS)
            hook_module(loaded[i], path);
    }
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(inst);
        install(inst);
    }
    return TRUE;
}
