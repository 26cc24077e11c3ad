/* The watchdog: which call each replay thread has in flight, and a hang when one has been
   in flight longer than the timeout without progress (host_watchdog.c). */
#ifndef DRVHOST_WATCHDOG_H
#define DRVHOST_WATCHDOG_H

#include <windows.h>
#include <stdint.h>

#include "host_batch.h"

extern slot_t load_slot; /* in flight while LoadLibrary (or the FreeLibrary at the end) runs */
extern const char *volatile load_what; /* "loading" or "unloading", for its error */

/* Start the watchdog (before LoadLibrary: see wmain) for calls of at most timeout_ms. */
void watchdog_start(uint32_t timeout_ms);
/* Slot s is in call index (load_slot: NO_CALL) / has left it. Cheap: no clock is read. */
void slot_enter(slot_t *s, uint32_t index);
void slot_leave(slot_t *s);
/* Slot s's calls run on the calling thread: the watchdog reads that thread's CPU time. */
void slot_on_this_thread(slot_t *s);
/* The oldest call in flight, or NO_CALL. */
uint32_t oldest_in_flight(void);
/* QueryPerformanceCounter ticks as ns. */
int64_t ticks_to_ns(int64_t ticks);

#endif
