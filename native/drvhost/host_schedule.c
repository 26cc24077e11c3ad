/* The schedule. Every distinct thread index gets its own OS thread. A call is released when
   every earlier call has been issued (entered DriverProc), its own thread's previous call has
   returned, and every call in its dependency list has returned (drvtape sends the recording's
   happens-before: drvtape/replay/order.py, docs/replay.md). One thread index: plain serial
   execution on the main thread. */
#define WIN32_LEAN_AND_MEAN
#include "host_schedule.h"

#include <windows.h>

#include "host_call.h"
#include "host_output.h"
#include "host_watchdog.h"

static volatile LONG issued;
static volatile LONG stop;      /* set at a divergence the hello asked to stop at */
static volatile LONG *returned; /* returned[i]: call i has returned in this run */
static SRWLOCK sched_lock = SRWLOCK_INIT; /* each slot waits on its own condition under it */
static DWORD tls_slot = TLS_OUT_OF_INDEXES;

uint32_t calls_issued(void)
{
    return (uint32_t)issued;
}

slot_t *current_slot(void)
{
    return tls_slot == TLS_OUT_OF_INDEXES ? NULL : TlsGetValue(tls_slot);
}

/* Lock held: wake the slot owning the next call to release (calls are released in order, so
   it is the only one that can go). */
static void wake_next(void)
{
    if ((uint32_t)issued < n_calls)
        WakeConditionVariable(&slots[calls[issued].thread].released);
}

static void stop_all(void)
{
    AcquireSRWLockExclusive(&sched_lock);
    stop = 1;
    for (uint32_t t = 0; t < n_threads; t++)
        WakeConditionVariable(&slots[t].released);
    ReleaseSRWLockExclusive(&sched_lock);
}

/* Run call i on slot s (already marked in flight): the calls waiting for it are released
   before its RETURN is sent. */
static void run_call(uint32_t i, slot_t *s)
{
    call_result_t res = call_issue(i, s);
    if (n_threads > 1) {
        AcquireSRWLockExclusive(&sched_lock);
        returned[i] = 1;
        wake_next();
        ReleaseSRWLockExclusive(&sched_lock);
    }
    if (call_report(i, &res))
        stop_all();
}

static void mark_issued(slot_t *s, uint32_t i)
{
    slot_enter(s, i);
    issued = (LONG)i + 1;
}

static void run_serial(slot_t *s)
{
    TlsSetValue(tls_slot, s);
    slot_on_this_thread(s);
    for (uint32_t k = 0; k < s->n && !stop; k++) {
        mark_issued(s, s->calls[k]);
        run_call(s->calls[k], s);
    }
}

/* Lock held: every call that call i waits for has returned. */
static int dependencies_returned(uint32_t i)
{
    for (uint32_t k = after_first[i]; k < after_first[i + 1]; k++)
        if (!returned[after[k]])
            return 0;
    return 1;
}

/* A replay thread: it waits on its own condition until its next call is released; a state
   change wakes only the slot whose call can go next (wake_next), never all of them. */
static DWORD WINAPI worker(void *arg)
{
    slot_t *s = arg;
    TlsSetValue(tls_slot, s);
    slot_on_this_thread(s);
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t i = s->calls[k];
        AcquireSRWLockExclusive(&sched_lock);
        while (((uint32_t)issued != i || !dependencies_returned(i)) && !stop)
            SleepConditionVariableSRW(&s->released, &sched_lock, INFINITE, 0);
        if (stop) {
            ReleaseSRWLockExclusive(&sched_lock);
            break;
        }
        mark_issued(s, i);
        wake_next();
        ReleaseSRWLockExclusive(&sched_lock);
        run_call(i, s);
    }
    return 0;
}

static void run_threads(void)
{
    HANDLE *h = alloc_or_fail(n_threads * sizeof *h, "threads");
    for (uint32_t t = 0; t < n_threads; t++)
        if (!(h[t] = CreateThread(NULL, 0, worker, &slots[t], 0, NULL)))
            fail("drvhost: CreateThread failed (%lu)", GetLastError());
    for (uint32_t t = 0; t < n_threads; t++)
        WaitForSingleObject(h[t], INFINITE);
}

void run_schedule(void)
{
    tls_slot = TlsAlloc();
    returned = alloc_or_fail((size_t)n_calls * sizeof *returned, "the schedule");
    if (n_threads == 1)
        run_serial(&slots[0]);
    else
        run_threads();
}
