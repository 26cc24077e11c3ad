/* The schedule: when each replay thread may issue its next call (host_schedule.c). */
#ifndef DRVHOST_SCHEDULE_H
#define DRVHOST_SCHEDULE_H

#include <stdint.h>

#include "host_batch.h"

/* Run the batch's calls: serially on this thread for one thread index, else one OS thread each. */
void run_schedule(void);
/* How many calls have been issued so far. */
uint32_t calls_issued(void);
/* The calling thread's replay slot, or NULL on any other thread (the driver's own). */
slot_t *current_slot(void);

#endif
