/* A call is hung when it has been in flight longer than the timeout without progress, counted
   two ways; the larger count decides (docs/replay.md has the figures):
   - the time the host could run, for a thread that waits or sleeps: the watchdog sleeps in
     ticks like such a driver, and a tick counts at most as long as the shortest tick of that
     length seen so far (the platform's granularity: ~1 ms under Wine), however late it came
     back: a driver that waits in steps (Sleep(1) a thousand times: a second on an idle
     machine) took 4-13 s of wall time on a loaded machine, most of it runnable but not
     running, and gets about one step per tick the machine gave the host (counting a late tick
     as two, it was reported hung at a 2 s timeout in 9 runs of 10);
   - the CPU time its thread used, for a thread that spins: from an eighth of the timeout on
     (when the ticks turn fine), GetThreadTimes on its thread, read at most every CPU_STEP_MS
     (Wine 8.0 takes the figures from Linux's per-thread times, which step by 10 ms).
   A wait that nothing ends is counted in full on an idle machine and later in wall time under
   load, never earlier. Under Wine a thread spinning on SwitchToThread gets little CPU time on
   a loaded machine (sched_yield gives the core away), so the ticks are what find it there.

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
#define CPU_STEP_MS 10 /* how often a thread's CPU time is read: Wine 8.0's figures step by 10 ms */
#define NO_CPU (-1)

slot_t load_slot;
const char *volatile load_what = "loading";

static LARGE_INTEGER qpc_freq;
static uint32_t limit_ms;
static LONG64 limit;                /* the timeout, in QPC ticks */
static LONG64 clock_now;            /* the host's clock, in QPC ticks */
static LONG64 tick_end;             /* QPC at the end of the previous tick */
static LONG64 shortest[2];          /* the shortest coarse and fine tick seen */
static DWORD tick_ms = COARSE_MS;
static LONG64 cpu_read_at;          /* QPC when the CPU times were last read */
static int cpu_due;                 /* CPU_STEP_MS have passed since: read them this tick */

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

void slot_on_this_thread(slot_t *s)
{
    HANDLE self = GetCurrentProcess(), thread;
    if (!DuplicateHandle(self, GetCurrentThread(), self, &thread, THREAD_QUERY_LIMITED_INFORMATION, FALSE, 0))
        fail("drvhost: DuplicateHandle(thread) failed (error %lu)", GetLastError());
    s->thread = thread;
}

/* The CPU time thread h has used, in QPC ticks, or NO_CPU. */
static LONG64 cpu_time(HANDLE h)
{
    FILETIME created, exited, kernel, user;
    if (!h || !GetThreadTimes(h, &created, &exited, &kernel, &user))
        return NO_CPU;
    LONG64 t = (LONG64)(((uint64_t)kernel.dwHighDateTime << 32 | kernel.dwLowDateTime) +
                        ((uint64_t)user.dwHighDateTime << 32 | user.dwLowDateTime)); /* 100 ns units */
    return t / 10000000 * qpc_freq.QuadPart + t % 10000000 * qpc_freq.QuadPart / 10000000;
}

/* Slot s's call, in flight for age (host clock) past an eighth of the timeout: the larger of age
   and its count by CPU time, the host clock's age when its CPU time was first read plus the CPU
   time used since (at most a tick of the slot's next call, which the next tick starts afresh).
   That count is at most the wall time since the call was seen: under Wine 8.0 on Linux,
   GetThreadTimes of a spinning thread moves in steps of 10 ms (checked), and a spinning call
   was once counted hung at its 500 ms timeout 498.6 ms after it was seen, which the HANG then
   reported. */
static LONG64 with_cpu_time(slot_t *s, LONG64 age)
{
    if (s->cpu_start == NO_CPU) {
        s->cpu_start = cpu_time(s->thread);
        s->cpu_mark = age;
    } else if (cpu_due) {
        LONG64 now = cpu_time(s->thread);
        LONG64 count = s->cpu_mark + now - s->cpu_start, wall = tick_end - s->seen_at;
        if (now != NO_CPU && count > age)
            return count < wall ? count : wall;
    }
    return age;
}

/* The watchdog's view of s: how long (QPC ticks, the larger count: see the top) its call has
   been in flight, 0 when it is idle; seen_at is when the watchdog first saw that call. */
static LONG64 host_age(slot_t *s)
{
    LONG64 busy = s->busy;
    if (!busy)
        return 0;
    if (busy != s->seen_busy) {
        s->seen_busy = busy;
        s->seen_at = tick_end;
        s->clock_start = clock_now;
        s->cpu_start = NO_CPU;
    }
    LONG64 age = clock_now - s->clock_start;
    return age > limit / 8 ? with_cpu_time(s, age) : age;
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
    /* the first tick of its length counts at most that length: it may itself be late */
    LONG64 most = shortest[fine] ? shortest[fine] : (LONG64)tick_ms * qpc_freq.QuadPart / 1000;
    clock_now += took < most ? took : most;
    if (!shortest[fine] || took < shortest[fine])
        shortest[fine] = took;
    cpu_due = now - cpu_read_at >= (LONG64)CPU_STEP_MS * qpc_freq.QuadPart / 1000;
    if (cpu_due)
        cpu_read_at = now;
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
    slot_on_this_thread(&load_slot); /* wmain's: LoadLibrary runs there */
    HANDLE running = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!running)
        fail("drvhost: CreateEventW failed (error %lu)", GetLastError());
    if (!CreateThread(NULL, 64 * 1024, watchdog, running, 0, NULL))
        fail("drvhost: cannot start the watchdog (%lu)", GetLastError());
    WaitForSingleObject(running, INFINITE);
    CloseHandle(running);
}
