/* One call into the driver, and its RETURN.
   Id remapping: a call whose id_from names a DRV_OPEN is sent the id that open returned in this
   run (its recorded driver_id when it returned 0). A call with id_from NO_CALL: when DRV_OPEN
   returns nonzero and the recorded result (expect) is nonzero, later such calls' driver_id
   equal to expect are sent the actual value. */
#define WIN32_LEAN_AND_MEAN
#include "host_call.h"

#include "drvcommon.h"
#include "host_memory.h"
#include "host_output.h"
#include "host_watchdog.h"
#include "id_map.h"

#define DRV_OPEN_MSG 3u

static int only_differences, stop_on_divergence;
static DRIVERPROC driver_proc;
static DEVICEPROC device_procs[ENTRY_POINTS]; /* by ENTRY_*; NULL where the DLL has none */
static uint64_t *produced;                    /* produced[i]: the id DRV_OPEN call i returned in this run */

void calls_configure(int differences_only, int stop_at_divergence)
{
    only_differences = differences_only;
    stop_on_divergence = stop_at_divergence;
}

void entry_points_find(HMODULE dll, const char *shown)
{
    driver_proc = (DRIVERPROC)(void *)GetProcAddress(dll, "DriverProc");
    if (!driver_proc)
        fail("drvhost: %s does not export DriverProc", shown);
    for (unsigned e = ENTRY_DRIVERPROC + 1; e < ENTRY_POINTS; e++)
        device_procs[e] = (DEVICEPROC)(void *)GetProcAddress(dll, device_entry_name(e));
}

void entry_points_check(void)
{
    for (uint32_t i = 0; i < n_calls; i++) {
        uint32_t e = calls[i].entry;
        if (e >= ENTRY_POINTS)
            fail("drvhost: call %u has entry point %u (0..%u expected)", i, e, ENTRY_POINTS - 1);
        if (e != ENTRY_DRIVERPROC && !device_procs[e])
            fail("drvhost: the DLL does not export %s (call %u)", device_entry_name(e), i);
    }
}

void calls_prepare(void)
{
    produced = alloc_or_fail((size_t)n_calls * sizeof *produced, "the id table");
}

static int diverges(const call_t *c, LRESULT r)
{
    if (!(c->flags & CALL_HAS_EXPECT))
        return 0;
    if (c->entry == ENTRY_DRIVERPROC && c->msg == DRV_OPEN_MSG)
        return !r != !c->expect;
    return (int64_t)r != c->expect;
}

/* Whether call i's RETURN is sent only when it diverges: the hello asked for differences
   only, the call has a recorded result, and it does not come before the call the recording
   hung in. A driver that freezes the whole host there is noticed by its silence and placed
   at the oldest call without a RETURN (drvtape/dllhost/client.py), so those before it must
   all have one, written out before the hung call is issued (call_issue). Such a call is not
   timed either (host_watchdog.c: a clock read costs more than the rest of a call). */
static int quiet_unless_diverging(uint32_t i)
{
    return only_differences && (calls[i].flags & CALL_HAS_EXPECT) && i >= every_return_before;
}

call_result_t call_issue(uint32_t i, slot_t *s)
{
    const call_t *c = &calls[i];
    memory_before(i);
    LPARAM l1 = (c->flags & CALL_P1) ? memory_block((uint32_t)c->lparam1) : (LPARAM)c->lparam1;
    LPARAM l2 = (c->flags & CALL_P2) ? memory_block((uint32_t)c->lparam2) : (LPARAM)c->lparam2;
    uint64_t id = c->id_from == NO_CALL ? map_lookup(c->driver_id)
                  : produced[c->id_from] ? produced[c->id_from] : c->driver_id;
    if (c->flags & CALL_RECORDED_HANG)
        flush_returns();
    call_result_t res = {.quiet = quiet_unless_diverging(i)};
    LONG64 start = res.quiet ? 0 : (LONG64)qpc_now();
    DWORD_PTR instance = 0; /* a device open's dwUser points here */
    if (c->entry == ENTRY_DRIVERPROC) {
        res.r = driver_proc((DWORD_PTR)id, (HDRVR)(uintptr_t)c->hdrvr, c->msg, l1, l2);
    } else {
        BOOL open = c->msg == device_open_msg(c->entry);
        res.r = (LRESULT)device_procs[c->entry]((UINT)c->hdrvr, c->msg, open ? (DWORD_PTR)&instance : (DWORD_PTR)id,
                                                (DWORD_PTR)l1, (DWORD_PTR)l2);
        if (open && res.r == 0 && c->driver_id)
            map_put(c->driver_id, (uint64_t)instance);
    }
    res.ns = res.quiet ? 0 : ticks_to_ns((LONG64)qpc_now() - start);
    res.read_back = memory_after(i); /* before any call waiting for this one is released */
    if (c->entry == ENTRY_DRIVERPROC && c->msg == DRV_OPEN_MSG && res.r && (c->flags & CALL_HAS_EXPECT) && c->expect) {
        produced[i] = (uint64_t)res.r;
        map_put((uint64_t)c->expect, (uint64_t)res.r);
    }
    slot_leave(s);
    return res;
}

/* The one rule for sending call i's RETURN: unless it is quiet (above), returned its recorded
   result (see diverges) and read no memory back. */
static int return_is_sent(const call_result_t *res, int diverged)
{
    return !res->quiet || diverged || res->read_back;
}

int call_report(uint32_t i, const call_result_t *res)
{
    int diverged = diverges(&calls[i], res->r);
    if (return_is_sent(res, diverged))
        emit_return(i, (int64_t)res->r, res->ns);
    return stop_on_divergence && diverged;
}
