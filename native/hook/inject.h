/* Loading the hook into a process created suspended (inject.c): a user APC queued to its
   first thread calls LoadLibraryW(hook). The loader runs it once the process is initialized
   and before the program's entry point (checked under Wine 8.0). */
#ifndef DRVHOOK_INJECT_H
#define DRVHOOK_INJECT_H

#include <windows.h>

/* FALSE (GetLastError says why) when the APC could not be queued. */
BOOL inject_hook(HANDLE process, HANDLE first_thread, const WCHAR *hook);

#endif
