/* A call is hung when it has been in flight longer than the timeout, counting only the time
   the host could run: on a loaded machine a driver that waits in small steps (Sleep(1) a
   thousand times: a second on an idle machine) took over 4 s of wall time, most of it spent
   runnable but not running, and was reported hung. The watchdog measures that itself: it
   sleeps in ticks like such a driver, and a tick that comes back late counts as at most
   LATE_TICKS of the shortest tick of that length seen so far (the platform's granularity:
   ~1 ms under Wine, 15.6 ms on Windows without timeBeginPeriod), so time the machine gave to
   others is not counted. A spin is counted while it spins; a wait that nothing ends, in full. */
#define WIN32_LEAN_AND_MEAN
#include "host_clock.h"

#include "drvcommon.h"

#define COARSE_MS 10 /* the tick while every call in flight is young */
#define FINE_MS 1    /* once one is older than fine_after: as fine as the waits it competes with */
#define LATE_TICKS 2

static LONG64 clock_now;            /* the host's clock, in QPC ticks */
static LONG64 last_qpc;             /* QPC at the end of the previous tick */
static LONG64 shortest[2];          /* the shortest coarse and fine tick seen (QPC ticks) */
static DWORD tick_ms = COARSE_MS;

void host_clock_tick(LONG64 fine_after)
{
    int fine = tick_ms == FINE_MS;
    if (!last_qpc)
        last_qpc = (LONG64)qpc_now();
    Sleep(tick_ms);
    LONG64 now = (LONG64)qpc_now(), took = now - last_qpc;
    last_qpc = now;
    if (!shortest[fine] || took < shortest[fine])
        shortest[fine] = took;
    clock_now += took < LATE_TICKS * shortest[fine] ? took : LATE_TICKS * shortest[fine];
    LONG64 oldest = 0;
    for (uint32_t t = 0; slots && t < n_threads; t++) {
        LONG64 age = host_age(&slots[t]);
        oldest = age > oldest ? age : oldest;
    }
    tick_ms = oldest > fine_after ? FINE_MS : COARSE_MS;
}

LONG64 host_age(slot_t *s)
{
    LONG64 start = s->start;
    if (!start)
        return 0;
    if (start != s->seen_start) { /* a call not seen before: what it spent before this tick counts in full */
        s->seen_start = start;
        s->clock_start = clock_now - ((LONG64)qpc_now() - start);
    }
    return clock_now - s->clock_start;
}
