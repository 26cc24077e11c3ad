#include "children.h"

#include <stdio.h>
#include <wchar.h>

#include "inject.h"

#define PATH_UNITS 4096
#define HELPER_WAIT_MS 60000 /* a loaded machine starting the x86 helper; never wait without bound */

static WCHAR hook_path[PATH_UNITS];
#ifdef _WIN64
static WCHAR x86_launcher[PATH_UNITS], x86_hook[PATH_UNITS]; /* beside this hook, in x86\ */
#endif

void children_configure(HINSTANCE self)
{
    DWORD n = GetModuleFileNameW(self, hook_path, PATH_UNITS);
    if (n == 0 || n >= PATH_UNITS) {
        hook_path[0] = 0;
        return;
    }
#ifdef _WIN64
    int folder = (int)(wcsrchr(hook_path, L'\\') - hook_path + 1);
    _snwprintf(x86_launcher, PATH_UNITS, L"%.*lsx86\\hooklaunch.exe", folder, hook_path);
    _snwprintf(x86_hook, PATH_UNITS, L"%.*lsx86\\drvhook.dll", folder, hook_path);
    x86_launcher[PATH_UNITS - 1] = x86_hook[PATH_UNITS - 1] = 0;
#endif
}

/* Is the child this process's architecture (both WOW64 or neither)? */
static BOOL same_arch(HANDLE child)
{
    BOOL mine = FALSE, theirs = FALSE;
    return IsWow64Process(GetCurrentProcess(), &mine) && IsWow64Process(child, &theirs) && mine == theirs;
}

/* A 32-bit child of this x64 process: the x86 hooklaunch beside this hook queues the x86
   hook's load in it (hooklaunch.c --into). Without them the child runs unhooked. */
static void hook_32bit_child(const PROCESS_INFORMATION *pi)
{
#ifdef _WIN64
    if (GetFileAttributesW(x86_launcher) == INVALID_FILE_ATTRIBUTES)
        return;
    static WCHAR cmd[3 * PATH_UNITS];
    _snwprintf(cmd, ARRAYSIZE(cmd), L"\"%ls\" --into %lu %lu \"%ls\"", x86_launcher, pi->dwProcessId, pi->dwThreadId,
               x86_hook);
    cmd[ARRAYSIZE(cmd) - 1] = 0;
    STARTUPINFOW si = {.cb = sizeof si};
    PROCESS_INFORMATION helper;
    if (!CreateProcessW(x86_launcher, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &helper))
        return;
    WaitForSingleObject(helper.hProcess, HELPER_WAIT_MS);
    CloseHandle(helper.hThread);
    CloseHandle(helper.hProcess);
#else
    (void)pi; /* a 64-bit child of a 32-bit process: not followed */
#endif
}

/* The child was created suspended: hook it (the APC calls this process's
   kernel32!LoadLibraryW, at the same address in every process of its architecture), resume it
   if the caller did not ask for it suspended. */
static void hook_child(const PROCESS_INFORMATION *pi, DWORD flags)
{
    DWORD last_error = GetLastError();
    if (hook_path[0] && same_arch(pi->hProcess))
        inject_hook(pi->hProcess, pi->hThread, hook_path);
    else if (hook_path[0])
        hook_32bit_child(pi);
    if (!(flags & CREATE_SUSPENDED))
        ResumeThread(pi->hThread);
    SetLastError(last_error);
}

BOOL WINAPI hooked_create_process_a(LPCSTR app, LPSTR cmd, LPSECURITY_ATTRIBUTES pa, LPSECURITY_ATTRIBUTES ta,
                                    BOOL inherit, DWORD flags, LPVOID env, LPCSTR dir, LPSTARTUPINFOA si,
                                    LPPROCESS_INFORMATION pi)
{
    BOOL ok = CreateProcessA(app, cmd, pa, ta, inherit, flags | CREATE_SUSPENDED, env, dir, si, pi);
    if (ok)
        hook_child(pi, flags);
    return ok;
}

BOOL WINAPI hooked_create_process_w(LPCWSTR app, LPWSTR cmd, LPSECURITY_ATTRIBUTES pa, LPSECURITY_ATTRIBUTES ta,
                                    BOOL inherit, DWORD flags, LPVOID env, LPCWSTR dir, LPSTARTUPINFOW si,
                                    LPPROCESS_INFORMATION pi)
{
    BOOL ok = CreateProcessW(app, cmd, pa, ta, inherit, flags | CREATE_SUSPENDED, env, dir, si, pi);
    if (ok)
        hook_child(pi, flags);
    return ok;
}
