#include "inject.h"

#include <wchar.h>

BOOL inject_hook(HANDLE process, HANDLE first_thread, const WCHAR *hook)
{
    size_t bytes = (wcslen(hook) + 1) * sizeof(WCHAR);
    void *remote = VirtualAllocEx(process, NULL, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    /* kernel32 is mapped at the same address in every process of a session */
    PAPCFUNC load = (PAPCFUNC)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "LoadLibraryW");
    return remote && load && WriteProcessMemory(process, remote, hook, bytes, NULL) &&
           QueueUserAPC(load, first_thread, (ULONG_PTR)remote);
}
