/* Faults: an unhandled-exception filter reports the call and exits; the host never lets an
   exception reach the system debugger (winedbg under Wine). Observed under Wine 8.0: a fault
   nobody handles makes Wine print "wine: Unhandled page fault ... starting debugger..." to
   stderr even with WINEDEBUG=-all, and costs ~2 s; a handled one prints nothing. Exceptions
   the driver handles itself (SEH) never reach the filter, so they are not reported; a driver
   thread of its own that faults is charged to the oldest call in flight. */
#define WIN32_LEAN_AND_MEAN
#include "host_faults.h"

#include <windows.h>
#include <stdio.h>

#include "drvcommon.h"
#include "host_output.h"
#include "host_schedule.h"
#include "host_watchdog.h"

static volatile LONG loading = 1;

static LONG WINAPI on_unhandled(EXCEPTION_POINTERS *ep)
{
    DWORD code = ep->ExceptionRecord->ExceptionCode;
    WCHAR module[MAX_PATH];
    char name[MAX_PATH * 3] = "";
    int64_t offset = (int64_t)module_offset((uintptr_t)ep->ExceptionRecord->ExceptionAddress, module, MAX_PATH);
    if (module[0])
        WideCharToMultiByte(CP_UTF8, 0, module, -1, name, sizeof name, NULL, NULL);
    if (loading) {
        char msg[MAX_PATH * 3 + 96];
        snprintf(msg, sizeof msg, "drvhost: exception 0x%08lX at %s+0x%llX while loading the DLL",
                 code, name[0] ? name : "?", (unsigned long long)offset);
        emit_final(REC_ERROR, NO_CALL, 0, 0, msg, 2);
    }
    /* The faulting replay thread's call; for a thread of the driver's own, the oldest
       call in flight, else the last one issued. */
    slot_t *s = current_slot();
    uint32_t idx = s && s->busy ? (uint32_t)s->index : oldest_in_flight();
    uint32_t issued = calls_issued();
    if (idx == NO_CALL)
        idx = issued ? issued - 1 : NO_CALL;
    emit_final(REC_FAULT, idx, (int64_t)code, offset, name, 3);
}

void faults_catch(void)
{
    SetUnhandledExceptionFilter(on_unhandled);
}

void faults_driver_loaded(void)
{
    SetUnhandledExceptionFilter(on_unhandled);
    loading = 0;
}
