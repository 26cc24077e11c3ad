/* The batch drvtape sends (drvhost.c's header comment): its calls, their memory ops
   (host_memory.h), and each replay thread's share of the calls. */
#ifndef DRVHOST_BATCH_H
#define DRVHOST_BATCH_H

#include <windows.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_THREADS 2048u /* MAX_HOST_THREADS in drvtape/formats/host_protocol.py */

#define CALL_HAS_EXPECT 1u
#define CALL_P1 2u /* lparam1 is a block id (host_memory.h) */
#define CALL_P2 4u
#define CALL_RECORDED_HANG 8u /* the recording hung in this call (host_call.c: return_is_sent) */

#pragma pack(push, 1)
typedef struct {
    uint64_t driver_id, hdrvr;
    int64_t lparam1, lparam2, expect;
    uint32_t msg, thread, flags;
    uint32_t n_ops;   /* memory ops of this call in the ops section */
    uint32_t id_from; /* the DRV_OPEN whose result is this call's driver_id, or NO_CALL */
    uint32_t n_after; /* how many calls must have returned before this one is issued */
    uint32_t entry;   /* drvcommon.h's ENTRY_*: which entry point to call */
    uint32_t reserved;
} call_t;
#pragma pack(pop)

/* One per replay thread: what it has in flight, read by the watchdog and fault filter. */
typedef struct {
    volatile LONG64 busy; /* nonzero while in a call: the slot's count of calls entered */
    volatile LONG index;  /* the call it is in, or was last in */
    LONG64 entries;
    volatile HANDLE thread; /* its OS thread, for its CPU time (slot_on_this_thread); NULL before */
    LONG64 seen_busy, seen_at, clock_start, cpu_start, cpu_mark; /* the watchdog's (host_watchdog.c) */
    CONDITION_VARIABLE released; /* woken when its next call may be released (host_schedule.c) */
    uint32_t *calls; /* indices of this thread's calls, in order */
    uint32_t n;
} slot_t;

extern HANDLE in_h; /* the protocol's input pipe */
extern call_t *calls;
/* calls[i]'s dependencies: after[after_first[i] .. after_first[i + 1]), each < i */
extern uint32_t *after, *after_first;
extern uint32_t n_calls, n_threads;
extern uint32_t every_return_before; /* the first call flagged CALL_RECORDED_HANG (0: none) */
extern slot_t *slots;

/* n bytes of input, or fail() naming `what`. */
void read_exact(void *p, size_t n, const char *what);
void *alloc_or_fail(size_t n, const char *what);
/* The batch, from the file at path once drvtape has sent its size down the pipe: calls,
   memory ops, slots; any inconsistency fails. */
void read_batch(const WCHAR *path);

#endif
