/* Following child processes (children.c): CreateProcessA/W replaced in the program's modules
   create the child suspended, load the hook into it (inject.h) and resume it unless the
   caller asked for it suspended; a 32-bit child of an x64 process gets the x86 hook from the
   run folder's x86\ (hooklaunch --into). Return value and GetLastError are CreateProcess's. */
#ifndef DRVHOOK_CHILDREN_H
#define DRVHOOK_CHILDREN_H

#include <windows.h>

/* The hook to load into children: this module (self). */
void children_configure(HINSTANCE self);

BOOL WINAPI hooked_create_process_a(LPCSTR app, LPSTR cmd, LPSECURITY_ATTRIBUTES pa, LPSECURITY_ATTRIBUTES ta,
                                    BOOL inherit, DWORD flags, LPVOID env, LPCSTR dir, LPSTARTUPINFOA si,
                                    LPPROCESS_INFORMATION pi);
BOOL WINAPI hooked_create_process_w(LPCWSTR app, LPWSTR cmd, LPSECURITY_ATTRIBUTES pa, LPSECURITY_ATTRIBUTES ta,
                                    BOOL inherit, DWORD flags, LPVOID env, LPCWSTR dir, LPSTARTUPINFOW si,
                                    LPPROCESS_INFORMATION pi);

#endif
