/* Recorded instance ids -> the ids the driver returned in this replay: see id_map.h. */
#define WIN32_LEAN_AND_MEAN
#include "id_map.h"

#include "host_output.h"

typedef struct {
    uint64_t recorded, actual;
} id_pair;

static SRWLOCK map_lock = SRWLOCK_INIT;
static id_pair *map;
static size_t map_cap, map_len; /* open addressing; recorded == 0 marks an empty entry */

static size_t map_home(uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (map_cap - 1);
}

uint64_t map_lookup(uint64_t recorded)
{
    uint64_t actual = recorded;
    AcquireSRWLockShared(&map_lock);
    if (map_len && recorded)
        for (size_t i = map_home(recorded);; i = (i + 1) & (map_cap - 1)) {
            if (!map[i].recorded)
                break;
            if (map[i].recorded == recorded) {
                actual = map[i].actual;
                break;
            }
        }
    ReleaseSRWLockShared(&map_lock);
    return actual;
}

static void map_put_locked(uint64_t recorded, uint64_t actual)
{
    size_t i = map_home(recorded);
    while (map[i].recorded && map[i].recorded != recorded)
        i = (i + 1) & (map_cap - 1);
    if (!map[i].recorded)
        map_len++;
    map[i].recorded = recorded;
    map[i].actual = actual;
}

void map_put(uint64_t recorded, uint64_t actual)
{
    AcquireSRWLockExclusive(&map_lock);
    if ((map_len + 1) * 2 > map_cap) {
        id_pair *old = map;
        size_t old_cap = map_cap;
        map_cap = map_cap ? map_cap * 2 : 64;
        map = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, map_cap * sizeof *map);
        if (!map)
            fail("drvhost: out of memory for the id map");
        map_len = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].recorded)
                map_put_locked(old[i].recorded, old[i].actual);
        HeapFree(GetProcessHeap(), 0, old);
    }
    map_put_locked(recorded, actual);
    ReleaseSRWLockExclusive(&map_lock);
}
