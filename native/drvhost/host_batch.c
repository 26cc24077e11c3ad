/* Reading the batch of calls and rebuilding its payloads: see host_batch.h. */
#define WIN32_LEAN_AND_MEAN
#include "host_batch.h"

#include <string.h>

#include "host_output.h"

#define MAX_PAYLOAD 524288u /* drvtape/formats/host_payloads.py: the largest image a session can hold */
#define MAX_RELOCS (MAX_PAYLOAD / 8u) /* a pointer takes 8 bytes of its image */
#define MAX_PAYLOAD_WIRE (8u + MAX_PAYLOAD + 8u * MAX_RELOCS)
#define MAX_CALLS (1u << 26)

#pragma pack(push, 1)
typedef struct {
    uint32_t n_calls, n_threads, n_payloads, n_after;
    uint64_t payload_bytes;
} batch_t;
#pragma pack(pop)

HANDLE in_h;
call_t *calls;
uint32_t *after, *after_first;
LPARAM *payload_ptrs;
uint32_t n_calls, n_threads, n_payloads;
slot_t *slots;

void read_exact(void *p, size_t n, const char *what)
{
    unsigned char *c = p;
    while (n) {
        DWORD got = 0;
        if (!ReadFile(in_h, c, (DWORD)(n > (1u << 20) ? (1u << 20) : n), &got, NULL) || !got)
            fail("drvhost: input ended while reading %s", what);
        c += got;
        n -= got;
    }
}

void *alloc_or_fail(size_t n, const char *what)
{
    void *p = n ? VirtualAlloc(NULL, n, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) : NULL;
    if (n && !p)
        fail("drvhost: out of memory for %s (%zu bytes)", what, n);
    return p;
}

/* Rebuild every payload in place in the buffer it was read into (host memory);
   payload_ptrs[i] is the address of payload i. */
static void build_payloads(unsigned char *wire, uint64_t wire_len)
{
    uint64_t pos = 0;
    payload_ptrs = alloc_or_fail((size_t)n_payloads * sizeof *payload_ptrs, "payload table");
    for (uint32_t i = 0; i < n_payloads; i++) {
        uint32_t size, n_relocs;
        if (wire_len - pos < 8)
            fail("drvhost: payload %u is truncated", i);
        memcpy(&size, wire + pos, 4);
        memcpy(&n_relocs, wire + pos + 4, 4);
        pos += 8;
        uint64_t padded = ((uint64_t)size + 7) & ~7ull;
        if (size > MAX_PAYLOAD || n_relocs > size / 8 || wire_len - pos < padded + (uint64_t)n_relocs * 8)
            fail("drvhost: payload %u is too large or truncated (%u bytes, %u pointers)", i, size, n_relocs);
        unsigned char *image = wire + pos; /* 8-aligned: headers, images, relocs all are */
        pos += padded;
        for (uint32_t r = 0; r < n_relocs; r++, pos += 8) {
            uint32_t at, target;
            memcpy(&at, wire + pos, 4);
            memcpy(&target, wire + pos + 4, 4);
            if ((uint64_t)at + 8 > size || target >= size)
                fail("drvhost: payload %u has a pointer outside itself", i);
            uint64_t addr = (uint64_t)(uintptr_t)(image + target);
            memcpy(image + at, &addr, 8);
        }
        payload_ptrs[i] = (LPARAM)image;
    }
    if (pos != wire_len)
        fail("drvhost: %llu bytes after the last payload", (unsigned long long)(wire_len - pos));
}

void read_batch(void)
{
    batch_t b;
    read_exact(&b, sizeof b, "the batch header");
    if (b.n_calls > MAX_CALLS || !b.n_threads || b.n_threads > MAX_THREADS ||
        b.payload_bytes > (uint64_t)b.n_payloads * MAX_PAYLOAD_WIRE)
        fail("drvhost: bad batch header (%u calls, %u threads)", b.n_calls, b.n_threads);
    n_calls = b.n_calls;
    n_threads = b.n_threads;
    n_payloads = b.n_payloads;
    calls = alloc_or_fail((size_t)n_calls * sizeof *calls, "calls");
    read_exact(calls, (size_t)n_calls * sizeof *calls, "the calls");
    if (b.n_after > (uint64_t)n_calls * MAX_THREADS)
        fail("drvhost: bad batch header (%u dependencies)", b.n_after);
    after = alloc_or_fail((size_t)b.n_after * 4, "dependencies");
    read_exact(after, (size_t)b.n_after * 4, "the dependencies");
    after_first = alloc_or_fail(((size_t)n_calls + 1) * 4, "dependencies");
    unsigned char *wire = alloc_or_fail((size_t)b.payload_bytes, "payloads");
    read_exact(wire, (size_t)b.payload_bytes, "the payloads");
    build_payloads(wire, b.payload_bytes);

    slots = alloc_or_fail(n_threads * sizeof *slots, "threads");
    uint64_t first = 0;
    for (uint32_t i = 0; i < n_calls; i++) {
        call_t *c = &calls[i];
        if (c->id_from != NO_CALL && c->id_from >= i)
            fail("drvhost: call %u takes its id from call %u, not an earlier one", i, c->id_from);
        if (c->n_after > b.n_after - first)
            fail("drvhost: call %u names more dependencies than were sent", i);
        after_first[i] = (uint32_t)first;
        for (uint32_t k = 0; k < c->n_after; k++)
            if (after[first + k] >= i)
                fail("drvhost: call %u waits for call %u, not an earlier one", i, after[first + k]);
        first += c->n_after;
        if (c->thread >= n_threads)
            fail("drvhost: call %u names thread %u of %u", i, c->thread, n_threads);
        if (((c->flags & CALL_P1) && (uint64_t)c->lparam1 >= n_payloads) ||
            ((c->flags & CALL_P2) && (uint64_t)c->lparam2 >= n_payloads))
            fail("drvhost: call %u names a payload that was not sent", i);
        slots[c->thread].n++;
    }
    if (first != b.n_after)
        fail("drvhost: %llu dependencies belong to no call", (unsigned long long)(b.n_after - first));
    after_first[n_calls] = (uint32_t)first;
    for (uint32_t t = 0; t < n_threads; t++) {
        slots[t].calls = alloc_or_fail((size_t)slots[t].n * 4 + 4, "schedule");
        slots[t].n = 0;
        slots[t].index = (LONG)NO_CALL;
    }
    for (uint32_t i = 0; i < n_calls; i++) {
        slot_t *s = &slots[calls[i].thread];
        s->calls[s->n++] = i;
    }
}
