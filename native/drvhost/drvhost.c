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
 *   hello   u32 magic 'DRVH' (0x48565244), u16 version (5), u16 flags (bit 0: stop on
 *           divergence; bit 1: FreeLibrary the DLL after the last call; bit 2: end with
 *           ExitProcess instead of TerminateProcess; bit 3: only differences: a RETURN
 *           only where drvtape cannot tell the result itself, see return_is_sent), u32
 *           timeout_ms (per call), u32 path_units, u32 batch_units, then the DLL path as
 *           path_units UTF-16 code units (no NUL), then the batch file's path as batch_units.
 *   The host loads the DLL and answers READY (or ERROR, then exits).
 *   go      u64 the batch file's size, sent once drvtape has written it whole; the host then
 *           reads the batch from that file (host_batch.c: why not down the pipe).
 *   batch   (the file) u32 n_calls, u32 n_threads, u32 n_blocks, u32 n_after, u64 ops_bytes,
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
 * The parts: host_batch.c reads the batch, host_schedule.c releases each call when the
 * recording allows it, host_call.c issues it (ids remapped) and sends its RETURN,
 * host_memory.c rebuilds its memory, host_faults.c reports a fault, host_watchdog.c a hang
 * (the oldest call in flight once one has made no progress for timeout_ms; it terminates the
 * process), host_output.c writes the records, host_mci.c answers an MCI driver's calls to winmm.
 *
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

#include "drvcommon.h"
#include "host_batch.h"
#include "host_call.h"
#include "host_faults.h"
#include "host_mci.h"
#include "host_output.h"
#include "host_schedule.h"
#include "host_watchdog.h"

#define MAGIC 0x48565244u
#define VERSION 5
#define FLAG_STOP_ON_DIVERGENCE 1u
#define FLAG_UNLOAD_AT_END 2u
#define FLAG_EXIT_AT_END 4u
#define FLAG_ONLY_DIFFERENCES 8u

#pragma pack(push, 1)
typedef struct {
    uint32_t magic;
    uint16_t version, flags;
    uint32_t timeout_ms, path_units, batch_units;
} hello_t;
#pragma pack(pop)

static uint16_t hello_flags;
static HMODULE driver_module;

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

/* units UTF-16 code units of the hello, NUL-terminated. */
static WCHAR *read_path(uint32_t units, const char *what)
{
    if (!units || units > 32767)
        fail("drvhost: bad length %u of %s", units, what);
    WCHAR *path = alloc_or_fail(((size_t)units + 1) * sizeof(WCHAR), what);
    read_exact(path, (size_t)units * sizeof(WCHAR), what);
    return path;
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
    entry_points_find(dll, shown);
    mci_attach(dll);
    faults_driver_loaded();
    emit_now(REC_READY, NO_CALL, (int64_t)(uintptr_t)dll, 0);
}

/* Every call issued has returned: end as the hello asked (see the header comment). */
static void __attribute__((noreturn)) end_run(void)
{
    if (hello_flags & FLAG_UNLOAD_AT_END) {
        load_what = "unloading";
        slot_enter(&load_slot, NO_CALL);
        FreeLibrary(driver_module);
        slot_leave(&load_slot);
    }
    if (!(hello_flags & FLAG_EXIT_AT_END))
        emit_final(REC_DONE, calls_issued(), 0, 0, NULL, 0);
    emit_now(REC_DONE, calls_issued(), 0, 0);
    ExitProcess(0);
}

int wmain(void)
{
    hello_t hello;
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
    faults_catch();
    take_stdio();

    read_exact(&hello, sizeof hello, "the hello");
    if (hello.magic != MAGIC || hello.version != VERSION)
        fail("drvhost: protocol mismatch (magic 0x%08X version %u)", hello.magic, hello.version);
    hello_flags = hello.flags;
    calls_configure(hello_flags & FLAG_ONLY_DIFFERENCES, hello_flags & FLAG_STOP_ON_DIVERGENCE);
    WCHAR *path = read_path(hello.path_units, "the DLL path");
    WCHAR *batch_path = read_path(hello.batch_units, "the batch file's path");
    /* The watchdog must be past its own start-up (DLL_THREAD_ATTACH needs the loader lock)
       before LoadLibrary takes the loader lock, or a DllMain that never returns stops it too. */
    watchdog_start(hello.timeout_ms ? hello.timeout_ms : 1);
    load_driver(path);

    read_batch(batch_path);
    entry_points_check();
    calls_prepare();
    run_schedule();
    end_run();
}
