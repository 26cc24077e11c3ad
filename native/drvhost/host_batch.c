/* Reading the batch of calls: see host_batch.h. */
#define WIN32_LEAN_AND_MEAN
#include "host_batch.h"

#include <string.h>

#include "host_memory.h"
#include "host_output.h"

#define MAX_CALLS (1u << 26)

#pragma pack(push, 1)
typedef struct {
    uint32_t n_calls, n_threads, n_blocks, n_after;
    uint64_t ops_bytes;
} batch_t;
#pragma pack(pop)

HANDLE in_h;
static HANDLE batch_h;    /* the batch file, while it is read */
static uint64_t batch_left; /* of the size drvtape announced */
call_t *calls;
uint32_t *after, *after_first;
uint32_t n_calls, n_threads;
uint32_t every_return_before;
slot_t *slots;

static void read_from(HANDLE h, void *p, size_t n, const char *what)
{
    unsigned char *c = p;
    while (n) {
        DWORD got = 0;
        if (!ReadFile(h, c, (DWORD)(n > (1u << 20) ? (1u << 20) : n), &got, NULL) || !got)
            fail("drvhost: input ended while reading %s", what);
        c += got;
        n -= got;
    }
}

void read_exact(void *p, size_t n, const char *what)
{
    read_from(in_h, p, n, what);
}

/* n bytes of the batch file, within the size announced for it. */
static void read_batch_part(void *p, size_t n, const char *what)
{
    if (n > batch_left)
        fail("drvhost: the batch ends before %s", what);
    read_from(batch_h, p, n, what);
    batch_left -= n;
}

void *alloc_or_fail(size_t n, const char *what)
{
    void *p = n ? VirtualAlloc(NULL, n, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) : NULL;
    if (n && !p)
        fail("drvhost: out of memory for %s (%zu bytes)", what, n);
    return p;
}

/* count * size as a size_t, or fail: the batch's counts are 32 and 64 bits wide, and an x86
   host's size_t is 32 bits, where the product would wrap to a small allocation. */
static size_t bytes_of(uint64_t count, size_t size, const char *what)
{
    if (size && count > SIZE_MAX / size)
        fail("drvhost: %s do not fit in this host's address space (%llu of %u bytes)", what,
             (unsigned long long)count, (unsigned)size);
    return (size_t)count * size;
}

/* The batch comes in a file rather than down the pipe: Wine 8.0 read 7.2 MB (100k calls)
   from the pipe in 94-122 ms, from a file in 9-14 ms, and running those calls took 3 ms. */
static void open_batch(const WCHAR *path)
{
    read_exact(&batch_left, sizeof batch_left, "the batch size");
    batch_h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                          OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (batch_h == INVALID_HANDLE_VALUE) {
        char shown[MAX_PATH * 3] = "";
        WideCharToMultiByte(CP_UTF8, 0, path, -1, shown, sizeof shown, NULL, NULL);
        fail("drvhost: cannot open the batch file %s: error %lu", shown, GetLastError());
    }
}

void read_batch(const WCHAR *path)
{
    batch_t b;
    open_batch(path);
    read_batch_part(&b, sizeof b, "the batch header");
    if (b.n_calls > MAX_CALLS || !b.n_threads || b.n_threads > MAX_THREADS || b.n_blocks > MAX_CALLS)
        fail("drvhost: bad batch header (%u calls, %u threads)", b.n_calls, b.n_threads);
    n_calls = b.n_calls;
    n_threads = b.n_threads;
    size_t calls_size = bytes_of(n_calls, sizeof *calls, "the calls");
    calls = alloc_or_fail(calls_size, "calls");
    read_batch_part(calls, calls_size, "the calls");
    if (b.n_after > (uint64_t)n_calls * MAX_THREADS)
        fail("drvhost: bad batch header (%u dependencies)", b.n_after);
    size_t after_size = bytes_of(b.n_after, 4, "the dependencies");
    after = alloc_or_fail(after_size, "dependencies");
    read_batch_part(after, after_size, "the dependencies");
    after_first = alloc_or_fail(((size_t)n_calls + 1) * 4, "dependencies");
    size_t ops_size = bytes_of(b.ops_bytes, 1, "the memory ops");
    unsigned char *wire = alloc_or_fail(ops_size, "memory ops");
    read_batch_part(wire, ops_size, "the memory ops");
    if (batch_left)
        fail("drvhost: %llu bytes of the batch file belong to nothing", (unsigned long long)batch_left);
    CloseHandle(batch_h);

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
        if (((c->flags & CALL_P1) && (uint64_t)c->lparam1 > b.n_blocks) ||
            ((c->flags & CALL_P2) && (uint64_t)c->lparam2 > b.n_blocks))
            fail("drvhost: call %u names a block that was not sent", i);
        slots[c->thread].n++;
        if ((c->flags & CALL_RECORDED_HANG) && !every_return_before)
            every_return_before = i;
    }
    if (first != b.n_after)
        fail("drvhost: %llu dependencies belong to no call", (unsigned long long)(b.n_after - first));
    after_first[n_calls] = (uint32_t)first;
    memory_read_ops(wire, b.ops_bytes, b.n_blocks);
    for (uint32_t t = 0; t < n_threads; t++) {
        slots[t].calls = alloc_or_fail((size_t)slots[t].n * 4 + 4, "schedule");
        slots[t].n = 0;
        slots[t].index = (LONG)NO_CALL;
        InitializeConditionVariable(&slots[t].released);
    }
    for (uint32_t i = 0; i < n_calls; i++) {
        slot_t *s = &slots[calls[i].thread];
        s->calls[s->n++] = i;
    }
}
