#include "children.h"

#include "inject.h"

#define PATH_UNITS 4096

static WCHAR hook_path[PATH_UNITS];

void children_configure(HINSTANCE self)
{
    DWORD n = GetModuleFileNameW(self, hook_path, PATH_UNITS);
    if (n == 0 || n >= PATH_UNITS)
        hook_path[0] = 0;
}

/* The child was created suspended: hook it (an x64 child only: the APC calls this process's
   kernel32!LoadLibraryW, at the same address in every x64 process), resume it if the caller
   did not ask for it suspended. */
static void hook_child(const PROCESS_INFORMATION *pi, DWORD flags)
{
    DWORD last_error = GetLastError();
    BOOL wow64 = FALSE;
    if (hook_path[0] && IsWow64Process(pi->hProcess, &wow64) && !wow64)
        inject_hook(pi->hProcess, pi->hThread, hook_path);
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
