/* The watchdog's clock: how long a call has been in flight, counting only the time the host
   could run (see host_clock.c). */
#ifndef DRVHOST_CLOCK_H
#define DRVHOST_CLOCK_H

#include <windows.h>

#include "host_batch.h"

/* Sleep one watchdog tick (short while some call is old, fine_after ticks of QPC), then
   advance the clock. */
void host_clock_tick(LONG64 fine_after);
/* The time (QPC ticks) the call on s has been in flight by that clock; 0 when s is idle. */
LONG64 host_age(slot_t *s);

#endif
