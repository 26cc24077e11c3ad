/*
 * drvhost: the replay agent process. It loads one installable driver DLL by path, finds
 * its DriverProc, and runs the calls drvtape sends it, reporting each result, a fault or
 * a hang. It runs natively on Windows and under Wine on Linux (drvtape/dllhost).
 *
 * Build: python -m drvtape.dllhost.build (or native/build.sh), x86_64-w64-mingw32-gcc.
 *
 * Protocol (stdin -> host, host -> stdout; everything little-endian). The same text is
 * in drvtape/formats/host_protocol.py, which is the other end.
 *
 *   hello   u32 magic 'DRVH' (0x48565244), u16 version (4), u16 flags (bit 0: stop on
 *           divergence; bit 1: FreeLibrary the DLL after the last call; bit 2: end with
 *           ExitProcess instead of TerminateProcess; bit 3: only differences: a RETURN
 *           only where drvtape cannot tell the result itself, see return_is_sent), u32
 *           timeout_ms (per call), u32 path_units, then the DLL path as path_units UTF-16
 *           code units (no NUL).
 *   The host loads the DLL and answers READY (or ERROR, then exits).
 *   batch   u32 n_calls, u32 n_threads, u32 n_blocks, u32 n_after, u64 ops_bytes,
 *           then n_calls call records of 72 bytes:
 *             u64 driver_id, u64 hdrvr, i64 lparam1, i64 lparam2, i64 expect,
 *             u32 msg, u32 thread, u32 flags (1: expect is valid, 2: lparam1 is a block
 *             id, 4: lparam2 is a block id: the driver gets that block's address, 8: the
 *             recording hung in this call: every earlier call's RETURN is sent, and
 *             written out before it is issued), u32 n_ops (its memory ops),
 *             u32 id_from (index of the DRV_OPEN that produced driver_id, or 0xFFFFFFFF),
 *             u32 n_after (how many dependencies it has), u32 entry_point (0 DriverProc,
 *             1..6 wodMessage, widMessage, modMessage, midMessage, mxdMessage, auxMessage:
 *             drvcommon.h's ENTRY_*), u32 reserved
 *           A device entry point's call is entry(hdrvr as uDeviceID, msg, driver_id as
 *           dwUser, lparam1, lparam2), driver_id mapped as for DriverProc; for its open
 *           (WODM_OPEN ...) driver_id is the instance the recorded driver stored at dwUser:
 *           the host passes the address of a zeroed DWORD_PTR and, when the open returns
 *           0, maps the recorded instance to the one the driver stored there.
 *           then n_after u32 call indices: each call's dependencies in call order (the
 *           calls that must have returned before it is issued; each < its own index)
 *           then ops_bytes of memory ops, each call's n_ops in call order, each 32 bytes:
 *             u32 op, u32 id (block, 1..n_blocks), u64 offset, u64 len, u32 target, u32 width
 *           run before the call: ALLOC (1) id of len bytes, zeroed; WRITE (2) len bytes
 *           (which follow the op, padded to a multiple of 8) at offset; PATCH (3) store at
 *           offset, width (the host's pointer size: 8 on x64, 4 on x86) bytes wide, the
 *           address of block target plus len (target 0: NULL); after it returned: READ (5)
 *           len bytes at offset, sent back in a MEMORY record; FREE (4) id. The host knows no struct layouts; recorded addresses
 *           never reach it (host_memory.c).
 *   The host then runs the calls and exits.
 *
 *   Every host -> Python record is a 32-byte header: u32 kind, u32 index (of the call in
 *   the batch), i64 a, i64 b, u32 tail_len, u32 reserved, followed by tail_len bytes.
 *     1 READY      a = DLL base address
 *     2 RETURN     a = LRESULT, b = duration in ns (0 for a call not timed: one
 *                  whose RETURN is sent only if it diverges, see return_is_sent)
 *     3 HEARTBEAT  sent when nothing else was for a while, so silence means trouble
 *     4 DONE       index = number of calls issued; the last record
 *     5 FAULT      a = exception code, b = offset in the module; tail = module file name
 *                  (UTF-8, empty when the address is in no module, then b = the address)
 *     6 HANG       index = the oldest call that has not returned, a = its time in flight
 *     7 ERROR      tail = a one-line UTF-8 message (bad input, load failure)
 *     8 MEMORY     a = block id, b = offset, tail = the bytes a READ op asked for; a call's
 *                  MEMORY records come before its RETURN
 *   RETURN records are buffered; the buffer is flushed when full, every ~200 ms, before
 *   a call with flag 8, and before DONE, FAULT, HANG and ERROR. After FAULT, HANG or
 *   ERROR the process is gone.
 *
 * Schedule: every distinct thread index gets its own OS thread. A call is released when
 * every earlier call has been issued (entered DriverProc), its own thread's previous
 * call has returned, and every call in its dependency list has returned (drvtape sends
 * the recording's happens-before: drvtape/replay/order.py, docs/replay.md). One thread
 * index: plain serial execution on the main thread.
 * Id remapping: a call whose id_from names a DRV_OPEN is sent the id that open returned
 * in this run (its recorded driver_id when it returned 0). A call with id_from NO_CALL:
 * when DRV_OPEN returns nonzero and the recorded result (expect) is nonzero, later such
 * calls' driver_id equal to expect are sent the actual value.
 * Faults: an unhandled-exception filter reports the call and exits; the host never lets
 * an exception reach the system debugger (winedbg under Wine). Observed under Wine 8.0: a
 * fault nobody handles makes Wine print "wine: Unhandled page fault ... starting
 * debugger..." to stderr even with WINEDEBUG=-all, and costs ~2 s; a handled one prints
 * nothing. Exceptions the driver handles itself (SEH) never reach the filter, so they are
 * not reported; a driver thread of its own that faults is charged to the oldest call in
 * flight. Hangs: a watchdog thread
 * reports the oldest call still in flight once any call has been in flight longer than
 * timeout_ms, counting only the time the host could run (host_watchdog.c), and terminates
 * the process.
 * The host ends with TerminateProcess, so the driver's DllMain never sees a detach that
 * the replayed session did not contain. Recording a workload through the tap (drvtape
 * record --target dll:) asks instead for the end an application gives: FreeLibrary after
 * the last call (the tap's END record), or ExitProcess (its process-exit DETACH record).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "drvcommon.h"
#include "host_batch.h"
#include "host_mci.h"
#include "host_memory.h"
#include "host_output.h"
#include "host_watchdog.h"
#include "id_map.h"

#define MAGIC 0x48565244u
#define VERSION 4
#define FLAG_STOP_ON_DIVERGENCE 1u
#define FLAG_UNLOAD_AT_END 2u
#define FLAG_EXIT_AT_END 4u
#define FLAG_ONLY_DIFFERENCES 8u

#define DRV_OPEN_MSG 3u

#pragma pack(push, 1)
typedef struct {
    uint32_t magic;
    uint16_t version, flags;
    uint32_t timeout_ms, path_units;
} hello_t;
#pragma pack(pop)

static uint16_t hello_flags;
static DRIVERPROC driver_proc;
static DEVICEPROC device_procs[ENTRY_POINTS]; /* by ENTRY_*; NULL where the DLL has none */
static volatile LONG loading = 1;
static DWORD tls_slot = TLS_OUT_OF_INDEXES;

static HMODULE driver_module;

/* Schedule state: calls issued so far, and the stop flag (divergence). */
static volatile LONG issued;
static volatile LONG stop;
static volatile LONG *returned; /* returned[i]: call i has returned in this run */
static uint64_t *produced;      /* produced[i]: the id DRV_OPEN call i returned in this run */
static SRWLOCK sched_lock = SRWLOCK_INIT; /* each slot waits on its own condition under it */

/* ---------------------------------------------------------------- calls */

static int diverges(const call_t *c, LRESULT r)
{
    if (!(c->flags & CALL_HAS_EXPECT))
        return 0;
    if (c->entry == ENTRY_DRIVERPROC && c->msg == DRV_OPEN_MSG)
        return !r != !c->expect;
    return (int64_t)r != c->expect;
}

/* Whether call i's RETURN is sent only when it diverges: the hello asked for differences
   only, the call has a recorded result, and it does not come before the call the recording
   hung in. A driver that freezes the whole host there is noticed by its silence and placed
   at the oldest call without a RETURN (drvtape/dllhost/client.py), so those before it must
   all have one, written out before the hung call is issued (run_call). Such a call is not
   timed either (host_watchdog.c: a clock read costs more than the rest of a call). */
static int quiet_unless_diverging(uint32_t i)
{
    return (hello_flags & FLAG_ONLY_DIFFERENCES) && (calls[i].flags & CALL_HAS_EXPECT) && i >= every_return_before;
}

/* The one rule for sending call i's RETURN: unless it is quiet (above), returned its recorded
   result (see diverges) and read no memory back. */
static int return_is_sent(uint32_t i, int quiet, LRESULT r, int read_back)
{
    return !quiet || diverges(&calls[i], r) || read_back;
}

/* Lock held: wake the slot owning the next call to release (calls are released in order, so
   it is the only one that can go). */
static void wake_next(void)
{
    if ((uint32_t)issued < n_calls)
        WakeConditionVariable(&slots[calls[issued].thread].released);
}

static void stop_all(void)
{
    AcquireSRWLockExclusive(&sched_lock);
    stop = 1;
    for (uint32_t t = 0; t < n_threads; t++)
        WakeConditionVariable(&slots[t].released);
    ReleaseSRWLockExclusive(&sched_lock);
}

/* Issue call i on slot s (already marked in flight by the caller) and report it. */
static void run_call(uint32_t i, slot_t *s)
{
    const call_t *c = &calls[i];
    memory_before(i);
    LPARAM l1 = (c->flags & CALL_P1) ? memory_block((uint32_t)c->lparam1) : (LPARAM)c->lparam1;
    LPARAM l2 = (c->flags & CALL_P2) ? memory_block((uint32_t)c->lparam2) : (LPARAM)c->lparam2;
    uint64_t id = c->id_from == NO_CALL ? map_lookup(c->driver_id)
                  : produced[c->id_from] ? produced[c->id_from] : c->driver_id;
    if (c->flags & CALL_RECORDED_HANG)
        flush_returns();
    int quiet = quiet_unless_diverging(i);
    LONG64 start = quiet ? 0 : (LONG64)qpc_now();
    LRESULT r;
    DWORD_PTR instance = 0; /* a device open's dwUser points here */
    if (c->entry == ENTRY_DRIVERPROC) {
        r = driver_proc((DWORD_PTR)id, (HDRVR)(uintptr_t)c->hdrvr, c->msg, l1, l2);
    } else {
        BOOL open = c->msg == device_open_msg(c->entry);
        r = (LRESULT)device_procs[c->entry]((UINT)c->hdrvr, c->msg, open ? (DWORD_PTR)&instance : (DWORD_PTR)id,
                                            (DWORD_PTR)l1, (DWORD_PTR)l2);
        if (open && r == 0 && c->driver_id)
            map_put(c->driver_id, (uint64_t)instance);
    }
    int64_t ns = quiet ? 0 : ticks_to_ns((LONG64)qpc_now() - start);
    int read_back = memory_after(i); /* before any call waiting for this one is released */
    if (c->entry == ENTRY_DRIVERPROC && c->msg == DRV_OPEN_MSG && r && (c->flags & CALL_HAS_EXPECT) && c->expect) {
        produced[i] = (uint64_t)r;
        map_put((uint64_t)c->expect, (uint64_t)r);
    }
    slot_leave(s);
    if (n_threads > 1) {
        AcquireSRWLockExclusive(&sched_lock);
        returned[i] = 1;
        wake_next();
        ReleaseSRWLockExclusive(&sched_lock);
    }
    if (return_is_sent(i, quiet, r, read_back))
        emit_return(i, (int64_t)r, ns);
    if ((hello_flags & FLAG_STOP_ON_DIVERGENCE) && diverges(c, r))
        stop_all();
}

static void mark_issued(slot_t *s, uint32_t i)
{
    slot_enter(s, i);
    issued = (LONG)i + 1;
}

static void run_serial(slot_t *s)
{
    TlsSetValue(tls_slot, s);
    slot_on_this_thread(s);
    for (uint32_t k = 0; k < s->n && !stop; k++) {
        mark_issued(s, s->calls[k]);
        run_call(s->calls[k], s);
    }
}

/* Lock held: every call that call i waits for has returned. */
static int dependencies_returned(uint32_t i)
{
    for (uint32_t k = after_first[i]; k < after_first[i + 1]; k++)
        if (!returned[after[k]])
            return 0;
    return 1;
}

/* A replay thread: it waits on its own condition until its next call is released; a state
   change wakes only the slot whose call can go next (wake_next), never all of them. */
static DWORD WINAPI worker(void *arg)
{
    slot_t *s = arg;
    TlsSetValue(tls_slot, s);
    slot_on_this_thread(s);
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t i = s->calls[k];
        AcquireSRWLockExclusive(&sched_lock);
        while (((uint32_t)issued != i || !dependencies_returned(i)) && !stop)
            SleepConditionVariableSRW(&s->released, &sched_lock, INFINITE, 0);
        if (stop) {
            ReleaseSRWLockExclusive(&sched_lock);
            break;
        }
        mark_issued(s, i);
        wake_next();
        ReleaseSRWLockExclusive(&sched_lock);
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

/* ---------------------------------------------------------------- faults */

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
    uint32_t idx = s && s->busy ? (uint32_t)s->index : oldest_in_flight();
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
    HANDLE out;
    if (!DuplicateHandle(self, GetStdHandle(STD_OUTPUT_HANDLE), self, &out, 0, FALSE, DUPLICATE_SAME_ACCESS))
        fail_early("DuplicateHandle(stdout)");
    output_start(out);
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
    slot_enter(&load_slot, NO_CALL);
    HMODULE dll = driver_module = LoadLibraryW(path);
    DWORD err = GetLastError();
    slot_leave(&load_slot);
    if (!dll)
        fail("drvhost: cannot load %s: error %lu", shown, err);
    driver_proc = (DRIVERPROC)(void *)GetProcAddress(dll, "DriverProc");
    if (!driver_proc)
        fail("drvhost: %s does not export DriverProc", shown);
    for (unsigned e = ENTRY_DRIVERPROC + 1; e < ENTRY_POINTS; e++)
        device_procs[e] = (DEVICEPROC)(void *)GetProcAddress(dll, device_entry_name(e));
    mci_attach(dll);
    SetUnhandledExceptionFilter(on_unhandled); /* again: DllMain may have replaced it */
    loading = 0;
    emit_now(REC_READY, NO_CALL, (int64_t)(uintptr_t)dll, 0);
}

/* Every call's entry point is one the DLL exports, or the batch is refused before any runs. */
static void check_entry_points(void)
{
    for (uint32_t i = 0; i < n_calls; i++) {
        uint32_t e = calls[i].entry;
        if (e >= ENTRY_POINTS)
            fail("drvhost: call %u has entry point %u (0..%u expected)", i, e, ENTRY_POINTS - 1);
        if (e != ENTRY_DRIVERPROC && !device_procs[e])
            fail("drvhost: the DLL does not export %s (call %u)", device_entry_name(e), i);
    }
}

/* Every call issued has returned: end as the hello asked (see the header comment). */
static void end_run(void)
{
    if (hello_flags & FLAG_UNLOAD_AT_END) {
        load_what = "unloading";
        slot_enter(&load_slot, NO_CALL);
        FreeLibrary(driver_module);
        slot_leave(&load_slot);
    }
    if (!(hello_flags & FLAG_EXIT_AT_END))
        emit_final(REC_DONE, (uint32_t)issued, 0, 0, NULL, 0);
    emit_now(REC_DONE, (uint32_t)issued, 0, 0);
    ExitProcess(0);
}

int wmain(void)
{
    hello_t hello;
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
    SetUnhandledExceptionFilter(on_unhandled);
    tls_slot = TlsAlloc();
    take_stdio();

    read_exact(&hello, sizeof hello, "the hello");
    if (hello.magic != MAGIC || hello.version != VERSION)
        fail("drvhost: protocol mismatch (magic 0x%08X version %u)", hello.magic, hello.version);
    if (!hello.path_units || hello.path_units > 32767)
        fail("drvhost: bad DLL path length %u", hello.path_units);
    hello_flags = hello.flags;
    WCHAR *path = alloc_or_fail(((size_t)hello.path_units + 1) * sizeof(WCHAR), "the path");
    read_exact(path, (size_t)hello.path_units * sizeof(WCHAR), "the DLL path");
    /* The watchdog must be past its own start-up (DLL_THREAD_ATTACH needs the loader lock)
       before LoadLibrary takes the loader lock, or a DllMain that never returns stops it too. */
    watchdog_start(hello.timeout_ms ? hello.timeout_ms : 1);
    load_driver(path);

    read_batch();
    check_entry_points();
    returned = alloc_or_fail((size_t)n_calls * sizeof *returned, "the schedule");
    produced = alloc_or_fail((size_t)n_calls * sizeof *produced, "the id table");
    if (n_threads == 1)
        run_serial(&slots[0]);
    else
        run_threads();
    end_run();
}
