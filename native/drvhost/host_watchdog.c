/* A call is hung when it has been in flight longer than the timeout, counting only the time
   the host could run: on a loaded machine a driver that waits in small steps (Sleep(1) a
   thousand times: a second on an idle machine) took over 4 s of wall time, most of it spent
   runnable but not running, and was reported hung. The watchdog measures that itself: it
   sleeps in ticks like such a driver, and a tick that comes back late counts as at most
   LATE_TICKS of the shortest tick of that length seen so far (the platform's granularity:
   ~1 ms under Wine, 15.6 ms on Windows without timeBeginPeriod), so time the machine gave to
   others is not counted. A spin is counted while it spins; a wait that nothing ends, in full.

   Replay threads read no clock per call (QueryPerformanceCounter costs ~0.6 us under Wine
   8.0, more than the rest of a call): a call's time starts when the watchdog first sees it in
   flight, within a tick of its issue. */
#define WIN32_LEAN_AND_MEAN
#include "host_watchdog.h"

#include <stdio.h>

#include "drvcommon.h"
#include "host_output.h"

#define COARSE_MS 10 /* the tick while every call in flight is young */
#define FINE_MS 1    /* once one is older than an eighth of the timeout: as fine as the waits it competes with */
#define LATE_TICKS 2

slot_t load_slot;
const char *volatile load_what = "loading";

static LARGE_INTEGER qpc_freq;
static uint32_t limit_ms;
static LONG64 limit;                /* the timeout, in QPC ticks */
static LONG64 clock_now;            /* the host's clock, in QPC ticks */
static LONG64 tick_end;             /* QPC at the end of the previous tick */
static LONG64 shortest[2];          /* the shortest coarse and fine tick seen */
static DWORD tick_ms = COARSE_MS;

int64_t ticks_to_ns(int64_t t)
{
    return t / qpc_freq.QuadPart * 1000000000LL + t % qpc_freq.QuadPart * 1000000000LL / qpc_freq.QuadPart;
}

void slot_enter(slot_t *s, uint32_t index)
{
    s->index = (LONG)index;
    s->busy = ++s->entries;
}

void slot_leave(slot_t *s)
{
    s->busy = 0;
}

/* The watchdog's view of s: how long (QPC ticks, host clock) its call has been in flight, 0
   when it is idle; seen_at is when the watchdog first saw that call. */
static LONG64 host_age(slot_t *s)
{
    LONG64 busy = s->busy;
    if (!busy)
        return 0;
    if (busy != s->seen_busy) {
        s->seen_busy = busy;
        s->seen_at = tick_end;
        s->clock_start = clock_now;
    }
    return clock_now - s->clock_start;
}

uint32_t oldest_in_flight(void)
{
    uint32_t best = NO_CALL;
    for (uint32_t t = 0; slots && t < n_threads; t++) {
        uint32_t idx = (uint32_t)slots[t].index;
        if (slots[t].busy && idx < best)
            best = idx;
    }
    return best;
}

static void tick(void)
{
    int fine = tick_ms == FINE_MS;
    Sleep(tick_ms);
    LONG64 now = (LONG64)qpc_now(), took = now - tick_end;
    tick_end = now;
    if (!shortest[fine] || took < shortest[fine])
        shortest[fine] = took;
    clock_now += took < LATE_TICKS * shortest[fine] ? took : LATE_TICKS * shortest[fine];
}

/* A HANG at the oldest call in flight, with the wall time since the watchdog saw it first. */
static void __attribute__((noreturn)) report_hang(void)
{
    uint32_t idx = oldest_in_flight();
    LONG64 seen = tick_end;
    for (uint32_t t = 0; t < n_threads; t++)
        if ((uint32_t)slots[t].index == idx && slots[t].busy == slots[t].seen_busy)
            seen = slots[t].seen_at;
    emit_final(REC_HANG, idx, ticks_to_ns((LONG64)qpc_now() - seen), 0, NULL, 4);
}

static DWORD WINAPI watchdog(void *running)
{
    tick_end = (LONG64)qpc_now();
    SetEvent(running);
    for (;;) {
        tick();
        if (host_age(&load_slot) > limit) {
            char msg[160];
            snprintf(msg, sizeof msg, "drvhost: %s the DLL did not finish within %u ms", load_what, limit_ms);
            emit_final(REC_ERROR, NO_CALL, 0, 0, msg, 2);
        }
        LONG64 oldest = 0;
        for (uint32_t t = 0; slots && t < n_threads; t++) {
            LONG64 age = host_age(&slots[t]);
            if (age > limit)
                report_hang();
            oldest = age > oldest ? age : oldest;
        }
        tick_ms = oldest > limit / 8 ? FINE_MS : COARSE_MS;
        keep_alive();
    }
}

void watchdog_start(uint32_t timeout_ms)
{
    QueryPerformanceFrequency(&qpc_freq);
    limit_ms = timeout_ms;
    limit = (LONG64)timeout_ms * qpc_freq.QuadPart / 1000;
    load_slot.index = (LONG)NO_CALL;
    HANDLE running = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!running)
        fail("drvhost: CreateEventW failed (error %lu)", GetLastError());
    if (!CreateThread(NULL, 64 * 1024, watchdog, running, 0, NULL))
        fail("drvhost: cannot start the watchdog (%lu)", GetLastError());
    WaitForSingleObject(running, INFINITE);
    CloseHandle(running);
}
