/* Id remapping: when DRV_OPEN returns nonzero and the recorded result was nonzero, later
   calls' driver_id equal to the recorded one are sent the actual one. Thread-safe. */
#ifndef DRVHOST_ID_MAP_H
#define DRVHOST_ID_MAP_H

#include <windows.h>
#include <stdint.h>

uint64_t map_lookup(uint64_t recorded); /* recorded itself when not mapped */
void map_put(uint64_t recorded, uint64_t actual);

#endif
