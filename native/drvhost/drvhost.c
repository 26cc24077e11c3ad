/*
 * drvhost: the replay agent process. It loads one installable driver DLL by path, finds
 * its DriverProc, and runs the calls drvtape sends it, reporting each result, a fault or
 * a hang. It runs natively on Windows and under Wine on Linux (drvtape/dllhost).
 *
 * Build: python -m drvtape.dllhost.build (or native/build.sh), x86_64-w64-mingw32-gcc.
 *
 * Protocol (stdin -> host, host -> stdout; everything little-endian). The same text is
 * in drvtape/dllhost/protocol.py, which is the other end.
 *
 *   hello   u32 magic 'DRVH' (0x48565244), u16 version (1), u16 flags (bit 0: stop on
 *           divergence), u32 timeout_ms (per call), u32 path_units, then the DLL path as
 *           path_units UTF-16 code units (no NUL).
 *   The host loads the DLL and answers READY (or ERROR, then exits).
 *   batch   u32 n_calls, u32 n_threads, u32 n_payloads, u32 reserved, u64 payload_bytes,
 *           then n_calls call records of 56 bytes:
 *             u64 driver_id, u64 hdrvr, i64 lparam1, i64 lparam2, i64 expect,
 *             u32 msg, u32 thread, u32 flags (1: expect is valid, 2: lparam1 is a payload
 *             index, 4: lparam2 is a payload index), u32 reserved
 *           then payload_bytes of payloads, each: u32 size (<= 65536), u32 n_relocs,
 *           size bytes of image padded to a multiple of 8, n_relocs x (u32 at, u32 target):
 *           the host copies the image into its own memory and writes the address of
 *           image+target as a pointer at image+at. The host knows no struct layouts;
 *           recorded addresses never reach it.
 *   The host then runs the calls and exits.
 *
 *   Every host -> Python record is a 32-byte header: u32 kind, u32 index (of the call in
 *   the batch), i64 a, i64 b, u32 tail_len, u32 reserved, followed by tail_len bytes.
 *     1 READY      a = DLL base address
 *     2 RETURN     a = LRESULT, b = duration in ns
 *     3 HEARTBEAT  sent when nothing else was for a while, so silence means trouble
 *     4 DONE       index = number of calls issued; the last record
 *     5 FAULT      a = exception code, b = offset in the module; tail = module file name
 *                  (UTF-8, empty when the address is in no module, then b = the address)
 *     6 HANG       index = the oldest call that has not returned, a = its time in flight
 *     7 ERROR      tail = a one-line UTF-8 message (bad input, load failure)
 *   RETURN records are buffered; the buffer is flushed when full, every ~200 ms, and
 *   before DONE, FAULT, HANG and ERROR. After FAULT, HANG or ERROR the process is gone.
 *
 * Schedule: every distinct thread index gets its own OS thread. A call is released when
 * every earlier call has been issued (entered DriverProc) and its own thread's previous
 * call has returned. One thread index: plain serial execution on the main thread.
 * Id remapping: when DRV_OPEN returns nonzero and the recorded result (expect) is
 * nonzero, later calls' driver_id equal to expect are sent the actual value.
 * Faults: an unhandled-exception filter reports the call and exits; the host never lets
 * an exception reach the system debugger (winedbg under Wine). Observed under Wine 8.0: a
 * fault nobody handles makes Wine print "wine: Unhandled page fault ... starting
 * debugger..." to stderr even with WINEDEBUG=-all, and costs ~2 s; a handled one prints
 * nothing. Exceptions the driver handles itself (SEH) never reach the filter, so they are
 * not reported; a driver thread of its own that faults is charged to the oldest call in
 * flight. Hangs: a watchdog thread
 * reports the oldest call still in flight once any call has been in flight longer than
 * timeout_ms, and terminates the process.
 * The host ends with TerminateProcess, so the driver's DllMain never sees a detach that
 * the replayed session did not contain.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "drvcommon.h"

#define MAGIC 0x48565244u
#define VERSION 1
#define FLAG_STOP_ON_DIVERGENCE 1u

#define CALL_HAS_EXPECT 1u
#define CALL_P1 2u
#define CALL_P2 4u

#define REC_READY 1
#define REC_RETURN 2
#define REC_HEARTBEAT 3
#define REC_DONE 4
#define REC_FAULT 5
#define REC_HANG 6
#define REC_ERROR 7

#define DRV_OPEN_MSG 3u
#define MAX_THREADS 256u
#define MAX_PAYLOAD 65536u
#define MAX_RELOCS (MAX_PAYLOAD / 8u) /* a pointer takes 8 bytes of its image */
#define MAX_PAYLOAD_WIRE (8u + MAX_PAYLOAD + 8u * MAX_RELOCS)
#define MAX_CALLS (1u << 26)
#define NO_CALL 0xFFFFFFFFu

#pragma pack(push, 1)
typedef struct {
    uint32_t magic;
    uint16_t version, flags;
    uint32_t timeout_ms, path_units;
} hello_t;

typedef struct {
    uint32_t n_calls, n_threads, n_payloads, reserved;
    uint64_t payload_bytes;
} batch_t;

typedef struct {
    uint64_t driver_id, hdrvr;
    int64_t lparam1, lparam2, expect;
    uint32_t msg, thread, flags, reserved;
} call_t;

typedef struct {
    uint32_t kind, index;
    int64_t a, b;
    uint32_t tail_len, reserved;
} record_t;
#pragma pack(pop)

/* One per replay thread: what it has in flight, read by the watchdog and fault filter. */
typedef struct {
    volatile LONG64 start; /* QueryPerformanceCounter at issue; 0 when idle */
    volatile LONG index;
    uint32_t *calls; /* indices of this thread's calls, in order */
    uint32_t n;
} slot_t;

static HANDLE in_h, out_h;
static LARGE_INTEGER qpc_freq;
static uint32_t timeout_ms;
static uint16_t hello_flags;
static DRIVERPROC driver_proc;
static volatile LONG loading = 1;
static DWORD tls_slot = TLS_OUT_OF_INDEXES;

static call_t *calls;
static LPARAM *payload_ptrs;
static uint32_t n_calls, n_threads, n_payloads;
static slot_t *slots;
static slot_t load_slot; /* in flight while LoadLibrary runs */

/* Schedule state: calls issued so far, and the stop flag (divergence). */
static volatile LONG issued;
static volatile LONG stop;
static SRWLOCK sched_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE sched_cv = CONDITION_VARIABLE_INIT;

/* ---------------------------------------------------------------- output */

static SRWLOCK out_lock = SRWLOCK_INIT;
static unsigned char out_buf[1 << 18];
static size_t out_len;
static volatile LONG64 last_write; /* GetTickCount64 of the last write */

static void write_all(const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n) {
        DWORD done = 0;
        if (!WriteFile(out_h, c, (DWORD)(n > (1u << 20) ? (1u << 20) : n), &done, NULL))
            TerminateProcess(GetCurrentProcess(), 9); /* the reader is gone */
        c += done;
        n -= done;
    }
}

/* Caller holds out_lock. */
static void flush_locked(void)
{
    if (out_len)
        write_all(out_buf, out_len);
    out_len = 0;
    last_write = (LONG64)GetTickCount64();
}

/* Caller holds out_lock. */
static void append_locked(uint32_t kind, uint32_t index, int64_t a, int64_t b, const char *tail,
                          uint32_t tail_len)
{
    record_t r = {kind, index, a, b, tail_len, 0};
    if (out_len + sizeof r + tail_len > sizeof out_buf)
        flush_locked();
    memcpy(out_buf + out_len, &r, sizeof r);
    out_len += sizeof r;
    if (tail_len) {
        memcpy(out_buf + out_len, tail, tail_len);
        out_len += tail_len;
    }
}

static void emit_return(uint32_t index, int64_t result, int64_t ns)
{
    AcquireSRWLockExclusive(&out_lock);
    append_locked(REC_RETURN, index, result, ns, NULL, 0);
    if (out_len >= sizeof out_buf / 4)
        flush_locked();
    ReleaseSRWLockExclusive(&out_lock);
}

/* A final record: write it with everything buffered before it, then end the process. */
static void __attribute__((noreturn))
emit_final(uint32_t kind, uint32_t index, int64_t a, int64_t b, const char *tail, UINT exit_code)
{
    AcquireSRWLockExclusive(&out_lock);
    append_locked(kind, index, a, b, tail, tail ? (uint32_t)strlen(tail) : 0);
    flush_locked();
    TerminateProcess(GetCurrentProcess(), exit_code);
    for (;;)
        Sleep(INFINITE);
}

static void __attribute__((noreturn)) fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit_final(REC_ERROR, NO_CALL, 0, 0, msg, 2);
}

/* ---------------------------------------------------------------- input */

static void read_exact(void *p, size_t n, const char *what)
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

static void *alloc_or_fail(size_t n, const char *what)
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

static void read_batch(void)
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
    unsigned char *wire = alloc_or_fail((size_t)b.payload_bytes, "payloads");
    read_exact(wire, (size_t)b.payload_bytes, "the payloads");
    build_payloads(wire, b.payload_bytes);

    slots = alloc_or_fail(n_threads * sizeof *slots, "threads");
    for (uint32_t i = 0; i < n_calls; i++) {
        call_t *c = &calls[i];
        if (c->thread >= n_threads)
            fail("drvhost: call %u names thread %u of %u", i, c->thread, n_threads);
        if (((c->flags & CALL_P1) && (uint64_t)c->lparam1 >= n_payloads) ||
            ((c->flags & CALL_P2) && (uint64_t)c->lparam2 >= n_payloads))
            fail("drvhost: call %u names a payload that was not sent", i);
        slots[c->thread].n++;
    }
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

/* ---------------------------------------------------------------- id map */

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

static uint64_t map_lookup(uint64_t recorded)
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

static void map_put(uint64_t recorded, uint64_t actual)
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

/* ---------------------------------------------------------------- calls */

static int64_t ticks_to_ns(int64_t t)
{
    return t / qpc_freq.QuadPart * 1000000000LL + t % qpc_freq.QuadPart * 1000000000LL / qpc_freq.QuadPart;
}

static int diverges(const call_t *c, LRESULT r)
{
    if (!(c->flags & CALL_HAS_EXPECT))
        return 0;
    if (c->msg == DRV_OPEN_MSG)
        return !r != !c->expect;
    return (int64_t)r != c->expect;
}

/* Issue call i on slot s (already marked in flight by the caller) and report it. */
static void run_call(uint32_t i, slot_t *s)
{
    const call_t *c = &calls[i];
    LPARAM l1 = (c->flags & CALL_P1) ? payload_ptrs[c->lparam1] : (LPARAM)c->lparam1;
    LPARAM l2 = (c->flags & CALL_P2) ? payload_ptrs[c->lparam2] : (LPARAM)c->lparam2;
    LRESULT r = driver_proc((DWORD_PTR)map_lookup(c->driver_id), (HDRVR)(uintptr_t)c->hdrvr,
                            c->msg, l1, l2);
    LONG64 end = (LONG64)qpc_now();
    if (c->msg == DRV_OPEN_MSG && r && (c->flags & CALL_HAS_EXPECT) && c->expect)
        map_put((uint64_t)c->expect, (uint64_t)r);
    int64_t ns = ticks_to_ns(end - s->start);
    s->start = 0;
    emit_return(i, (int64_t)r, ns);
    if ((hello_flags & FLAG_STOP_ON_DIVERGENCE) && diverges(c, r)) {
        AcquireSRWLockExclusive(&sched_lock);
        stop = 1;
        ReleaseSRWLockExclusive(&sched_lock);
        WakeAllConditionVariable(&sched_cv);
    }
}

static void mark_issued(slot_t *s, uint32_t i)
{
    s->index = (LONG)i;
    s->start = (LONG64)qpc_now();
    issued = (LONG)i + 1;
}

static void run_serial(slot_t *s)
{
    TlsSetValue(tls_slot, s);
    for (uint32_t k = 0; k < s->n && !stop; k++) {
        mark_issued(s, s->calls[k]);
        run_call(s->calls[k], s);
    }
}

static DWORD WINAPI worker(void *arg)
{
    slot_t *s = arg;
    TlsSetValue(tls_slot, s);
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t i = s->calls[k];
        AcquireSRWLockExclusive(&sched_lock);
        while ((uint32_t)issued != i && !stop)
            SleepConditionVariableSRW(&sched_cv, &sched_lock, INFINITE, 0);
        if (stop) {
            ReleaseSRWLockExclusive(&sched_lock);
            break;
        }
        mark_issued(s, i);
        ReleaseSRWLockExclusive(&sched_lock);
        WakeAllConditionVariable(&sched_cv);
        run_call(i, s);
    }
    return 0;
}

static void run_threads(void)
{
    HANDLE *h = alloc_or_fail(n_threads * sizeof *h, "threads");
    for (uint32_t t = 0; t < n_threads; t++)
        if (!(h[t] = CreateThread(NULL, 0, worker, &slots[t], 0, NULL)))
            fail("drvhost: CreateThread failed (%lu)", GetLastError());
    for (uint32_t t = 0; t < n_threads; t++)
        WaitForSingleObject(h[t], INFINITE);
}

/* ---------------------------------------------------------------- watchdog, faults */

/* The oldest call in flight, or NO_CALL. */
static uint32_t oldest_in_flight(LONG64 *start)
{
    uint32_t best = NO_CALL;
    for (uint32_t t = 0; slots && t < n_threads; t++) {
        LONG64 st = slots[t].start;
        uint32_t idx = (uint32_t)slots[t].index;
        if (st && idx < best) {
            best = idx;
            *start = st;
        }
    }
    return best;
}

static DWORD WINAPI watchdog(void *running)
{
    SetEvent(running);
    LONG64 limit = (LONG64)timeout_ms * qpc_freq.QuadPart / 1000;
    for (;;) {
        Sleep(10);
        LONG64 now = (LONG64)qpc_now(), st = load_slot.start;
        if (st && now - st > limit) {
            char msg[160];
            snprintf(msg, sizeof msg, "drvhost: loading the DLL did not finish within %u ms", timeout_ms);
            emit_final(REC_ERROR, NO_CALL, 0, 0, msg, 2);
        }
        for (uint32_t t = 0; slots && t < n_threads; t++) {
            st = slots[t].start;
            if (st && now - st > limit) {
                LONG64 oldest_start = st;
                uint32_t idx = oldest_in_flight(&oldest_start);
                emit_final(REC_HANG, idx, ticks_to_ns(now - oldest_start), 0, NULL, 4);
            }
        }
        AcquireSRWLockExclusive(&out_lock);
        LONG64 quiet = (LONG64)GetTickCount64() - last_write;
        if (out_len && quiet > 200)
            flush_locked();
        else if (quiet > 1000) {
            append_locked(REC_HEARTBEAT, NO_CALL, 0, 0, NULL, 0);
            flush_locked();
        }
        ReleaseSRWLockExclusive(&out_lock);
    }
}

static LONG WINAPI on_unhandled(EXCEPTION_POINTERS *ep)
{
    DWORD code = ep->ExceptionRecord->ExceptionCode;
    WCHAR module[MAX_PATH];
    char name[MAX_PATH * 3] = "";
    int64_t offset = (int64_t)module_offset((uintptr_t)ep->ExceptionRecord->ExceptionAddress, module, MAX_PATH);
    if (module[0])
        WideCharToMultiByte(CP_UTF8, 0, module, -1, name, sizeof name, NULL, NULL);
    if (loading) {
        char msg[MAX_PATH * 3 + 96];
        snprintf(msg, sizeof msg, "drvhost: exception 0x%08lX at %s+0x%llX while loading the DLL",
                 code, name[0] ? name : "?", (unsigned long long)offset);
        emit_final(REC_ERROR, NO_CALL, 0, 0, msg, 2);
    }
    /* The faulting replay thread's call; for a thread of the driver's own, the oldest
       call in flight, else the last one issued. */
    slot_t *s = TlsGetValue(tls_slot);
    LONG64 ignored;
    uint32_t idx = s && s->start ? (uint32_t)s->index : oldest_in_flight(&ignored);
    if (idx == NO_CALL)
        idx = issued ? (uint32_t)issued - 1 : NO_CALL;
    emit_final(REC_FAULT, idx, (int64_t)code, offset, name, 3);
}

/* ---------------------------------------------------------------- main */

/* Before stdout is ours the protocol cannot carry a message: stderr does, and exit 2. */
static void __attribute__((noreturn)) fail_early(const char *what)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "drvhost: %s failed (error %lu)\n", what, GetLastError());
    DWORD wrote;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), msg, (DWORD)(n > 0 ? n : 0), &wrote, NULL);
    ExitProcess(2);
}

/* Keep the protocol's pipes to ourselves: the driver's stdout goes to stderr, its stdin is NUL. */
static void take_stdio(void)
{
    _setmode(0, _O_BINARY);
    _setmode(1, _O_BINARY);
    HANDLE self = GetCurrentProcess();
    /* Own copies: _dup2 below closes the handle behind CRT fd 1. */
    if (!DuplicateHandle(self, GetStdHandle(STD_OUTPUT_HANDLE), self, &out_h, 0, FALSE, DUPLICATE_SAME_ACCESS))
        fail_early("DuplicateHandle(stdout)");
    if (!DuplicateHandle(self, GetStdHandle(STD_INPUT_HANDLE), self, &in_h, 0, FALSE, DUPLICATE_SAME_ACCESS))
        fail("drvhost: DuplicateHandle(stdin) failed (error %lu)", GetLastError());
    HANDLE nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    if (nul == INVALID_HANDLE_VALUE)
        fail("drvhost: cannot open NUL for the driver's stdin (error %lu)", GetLastError());
    SetStdHandle(STD_INPUT_HANDLE, nul);
    SetStdHandle(STD_OUTPUT_HANDLE, GetStdHandle(STD_ERROR_HANDLE));
    _dup2(2, 1);
}

static void load_driver(const WCHAR *path)
{
    char shown[MAX_PATH * 3] = "";
    WideCharToMultiByte(CP_UTF8, 0, path, -1, shown, sizeof shown, NULL, NULL);
    load_slot.start = (LONG64)qpc_now();
    HMODULE dll = LoadLibraryW(path);
    DWORD err = GetLastError();
    load_slot.start = 0;
    if (!dll)
        fail("drvhost: cannot load %s: error %lu", shown, err);
    driver_proc = (DRIVERPROC)(void *)GetProcAddress(dll, "DriverProc");
    if (!driver_proc)
        fail("drvhost: %s does not export DriverProc", shown);
    SetUnhandledExceptionFilter(on_unhandled); /* again: DllMain may have replaced it */
    loading = 0;
    AcquireSRWLockExclusive(&out_lock);
    append_locked(REC_READY, NO_CALL, (int64_t)(uintptr_t)dll, 0, NULL, 0);
    flush_locked();
    ReleaseSRWLockExclusive(&out_lock);
}

int wmain(void)
{
    hello_t hello;
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
    SetUnhandledExceptionFilter(on_unhandled);
    QueryPerformanceFrequency(&qpc_freq);
    tls_slot = TlsAlloc();
    take_stdio();
    last_write = (LONG64)GetTickCount64();

    read_exact(&hello, sizeof hello, "the hello");
    if (hello.magic != MAGIC || hello.version != VERSION)
        fail("drvhost: protocol mismatch (magic 0x%08X version %u)", hello.magic, hello.version);
    if (!hello.path_units || hello.path_units > 32767)
        fail("drvhost: bad DLL path length %u", hello.path_units);
    timeout_ms = hello.timeout_ms ? hello.timeout_ms : 1;
    hello_flags = hello.flags;
    WCHAR *path = alloc_or_fail(((size_t)hello.path_units + 1) * sizeof(WCHAR), "the path");
    read_exact(path, (size_t)hello.path_units * sizeof(WCHAR), "the DLL path");
    /* The watchdog must be past its own start-up (DLL_THREAD_ATTACH needs the loader lock)
       before LoadLibrary takes the loader lock, or a DllMain that never returns stops it too. */
    HANDLE running = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!running)
        fail("drvhost: CreateEventW failed (error %lu)", GetLastError());
    if (!CreateThread(NULL, 64 * 1024, watchdog, running, 0, NULL))
        fail("drvhost: cannot start the watchdog (%lu)", GetLastError());
    WaitForSingleObject(running, INFINITE);
    load_driver(path);

    read_batch();
    if (n_threads == 1)
        run_serial(&slots[0]);
    else
        run_threads();
    emit_final(REC_DONE, (uint32_t)issued, 0, 0, NULL, 0);
}
