/* One call into the driver: the DLL's entry points, the call's id and memory, and whether its
   RETURN is sent (host_call.c). */
#ifndef DRVHOST_CALL_H
#define DRVHOST_CALL_H

#include <windows.h>
#include <stdint.h>

#include "host_batch.h"

typedef struct {
    LRESULT r;
    int64_t ns;    /* its duration; 0 for a call not timed (quiet) */
    int quiet;     /* its RETURN is sent only if it diverges (host_call.c: quiet_unless_diverging) */
    int read_back; /* it read memory back */
} call_result_t;

/* The hello's choices: send only differences; stop the run at the first divergence. */
void calls_configure(int only_differences, int stop_on_divergence);
/* DriverProc (or fail, naming the DLL as shown) and the device entry points dll exports. */
void entry_points_find(HMODULE dll, const char *shown);
/* Every call's entry point is one the DLL exports, or the batch is refused before any runs. */
void entry_points_check(void);
/* Before the first call: room for the ids this run's DRV_OPENs produce. */
void calls_prepare(void);
/* Issue call i on slot s (marked in flight by the caller); s has left it when this returns. */
call_result_t call_issue(uint32_t i, slot_t *s);
/* Send call i's RETURN if it must be (return_is_sent); nonzero when the run stops there (a divergence). */
int call_report(uint32_t i, const call_result_t *res);

#endif
