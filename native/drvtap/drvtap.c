/*
 * drvtap: a recording proxy installable driver. Point an alias (or OpenDriver) at
 * drvtap.dll; it loads the real driver and forwards every DriverProc message to it,
 * appending a CALL record to a tape before forwarding and a RETURN record after, so a
 * crash or hang inside the real driver still leaves the call on the tape.
 *
 * Configuration (read on the first message):
 *   real driver  env DRVTAP_REAL, else line 1 of drvtap.cfg beside drvtap.dll (UTF-8; a
 *                relative path is relative to the cfg's folder)
 *   tape         env DRVTAP_TAPE, else line 2 of drvtap.cfg (relative: to the cfg's folder), else
 *                "<real driver name without extension>.<pid>.drvtape" in the current folder
 *   durability   env DRVTAP_FLUSH=every: each record flushed to the disk (FlushViewOfFile and
 *                FlushFileBuffers); otherwise records are stores into a mapped view of the tape,
 *                which the OS keeps when the process dies, but not when the machine does
 *   memory cap   env DRVTAP_MEMORY_CAP: bytes kept of one memory block (default 1,000,000,
 *                at most what fits one record); a longer block is kept cut, marked truncated
 * The tape is written through mapped views (tape_writer.h); the format is in drvtap.h.
 * If the tape cannot be opened the driver still works, unrecorded; if the real driver
 * cannot be loaded every message returns 0 (DRV_LOAD fails, so the system unloads us).
 *
 * The real driver's lifetime is the tap's: loaded with the first message, freed when the
 * tap is unloaded, so every message (DRV_LOAD and DRV_FREE included) is forwarded as it
 * comes and no message of another thread can meet a driver unloaded under it. That is how
 * the system would hold the real driver had it loaded it itself: winmm's OpenDriver loads
 * the tap's DLL and CloseDriver frees it, so it is unloaded (and the tap's END record ends
 * the session) when the last instance closes.
 *
 * Build: drvtape.dllhost.build.build_drvtap (x86_64-w64-mingw32-gcc, -shared, with
 * native/common on the include path) compiles drvtap.c, record.c, memory_capture.c and
 * tape_writer.c.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "drvcommon.h"
#include "drvtap.h"
#include "memory_capture.h"
#include "record.h"
#include "tape_writer.h"

#define PATH_UNITS 4096
#define CALL_BUF (16u * 1024u)

static HINSTANCE self;
static CRITICAL_SECTION start_lock; /* configuring, opening the tape, loading the real driver */
static DWORD tls_depth = TLS_OUT_OF_INDEXES;
static DWORD tls_call = TLS_OUT_OF_INDEXES; /* (innermost call's seq << 8) | exceptions recorded in it */
static PVOID exception_handler;
static volatile LONG started;
static volatile LONG in_flight;
static HMODULE real_module;
static DRIVERPROC volatile real_proc;
static DEVICEPROC volatile real_device[ENTRY_POINTS]; /* by ENTRY_*; [ENTRY_DRIVERPROC] unused */
static BOOL flush_every;
static DWORD pid;
static WCHAR real_path[PATH_UNITS];
static WCHAR tape_path[PATH_UNITS];

/* ---- the session header --------------------------------------------------------------- */

static void os_description(WCHAR *out, size_t units)
{
    typedef LONG(WINAPI * rtl_get_version_fn)(OSVERSIONINFOW *);
    typedef const char *(CDECL * wine_get_version_fn)(void);
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    OSVERSIONINFOW v = {.dwOSVersionInfoSize = sizeof v};
    rtl_get_version_fn get = ntdll ? (rtl_get_version_fn)(void *)GetProcAddress(ntdll, "RtlGetVersion") : NULL;
    wine_get_version_fn wine = ntdll ? (wine_get_version_fn)(void *)GetProcAddress(ntdll, "wine_get_version") : NULL;
    if (!get || get(&v) != 0)
        v.dwMajorVersion = v.dwMinorVersion = v.dwBuildNumber = 0;
    if (wine)
        _snwprintf(out, units, L"Windows %lu.%lu.%lu (Wine %hs)", v.dwMajorVersion, v.dwMinorVersion,
                   v.dwBuildNumber, wine());
    else
        _snwprintf(out, units, L"Windows %lu.%lu.%lu", v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber);
    out[units - 1] = 0;
}

static void write_header(void)
{
    static WCHAR image[PATH_UNITS], tap[PATH_UNITS], machine[MAX_COMPUTERNAME_LENGTH + 1], os[256];
    DWORD n = ARRAYSIZE(machine);
    if (!GetComputerNameW(machine, &n))
        machine[0] = 0;
    image[GetModuleFileNameW(NULL, image, PATH_UNITS - 1)] = 0;
    tap[GetModuleFileNameW(self, tap, PATH_UNITS - 1)] = 0;
    os_description(os, ARRAYSIZE(os));

    size_t cap = 128 + 2 * (wcslen(image) + wcslen(tap) + wcslen(machine) + wcslen(os) + wcslen(real_path));
    uint8_t *body = HeapAlloc(GetProcessHeap(), 0, cap);
    if (!body)
        return;
    buf_t b = {body, 0, cap};
    LARGE_INTEGER freq;
    FILETIME now;
    QueryPerformanceFrequency(&freq);
    GetSystemTimeAsFileTime(&now);
    put32(&b, DRVTAP_REC_HEADER);
    put(&b, DRVTAP_MAGIC, 8);
    put32(&b, DRVTAP_VERSION);
    put32(&b, pid);
    put32(&b, flush_every ? DRVTAP_FLAG_FLUSH_EVERY : 0);
    put32(&b, sizeof(void *));
    put32(&b, 0);
    put64(&b, (uint64_t)freq.QuadPart);
    put64(&b, qpc_now());
    put64(&b, ((uint64_t)now.dwHighDateTime << 32) | now.dwLowDateTime);
    put64(&b, 0);
    put64(&b, 0);
    put_wide(&b, machine);
    put_wide(&b, os);
    put_wide(&b, image);
    put_wide(&b, real_path);
    put_wide(&b, tap);
    if (b.len <= b.cap)
        tape_append(body, b.len, FALSE);
    HeapFree(GetProcessHeap(), 0, body);
}

/* ---- configuration and start -------------------------------------------------------- */

static BOOL is_absolute(const WCHAR *p)
{
    return (p[0] && p[1] == L':') || p[0] == L'\\' || p[0] == L'/';
}

/* Line `index` (0-based) of drvtap.cfg beside this DLL into out; FALSE when absent. */
static BOOL cfg_line(int index, WCHAR *out, size_t units, WCHAR *dir, size_t dir_units)
{
    WCHAR path[PATH_UNITS];
    DWORD n = GetModuleFileNameW(self, path, PATH_UNITS - 16);
    if (n == 0 || n >= PATH_UNITS - 16)
        return FALSE;
    path[n] = 0;
    WCHAR *slash = wcsrchr(path, L'\\');
    slash = slash ? slash + 1 : path;
    *slash = 0;
    lstrcpynW(dir, path, (int)dir_units);
    wcscpy(slash, L"drvtap.cfg");
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return FALSE;
    static char text[65536];
    DWORD got = 0;
    BOOL ok = ReadFile(f, text, sizeof text - 1, &got, NULL);
    CloseHandle(f);
    if (!ok)
        return FALSE;
    text[got] = 0;
    char *line = text;
    if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
        line += 3;
    for (int i = 0; i < index && line; i++) {
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!line)
        return FALSE;
    size_t len = strcspn(line, "\r\n");
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return FALSE;
    int w = MultiByteToWideChar(CP_UTF8, 0, line, (int)len, out, (int)units - 1);
    if (w <= 0)
        return FALSE;
    out[w] = 0;
    return TRUE;
}

static void resolve_against(WCHAR *path, size_t units, const WCHAR *dir)
{
    if (is_absolute(path) || !dir[0])
        return;
    WCHAR joined[PATH_UNITS];
    _snwprintf(joined, PATH_UNITS, L"%ls%ls", dir, path);
    joined[PATH_UNITS - 1] = 0;
    lstrcpynW(path, joined, (int)units);
}

static void configure(void)
{
    WCHAR dir[PATH_UNITS] = L"", value[16];
    DWORD n = GetEnvironmentVariableW(L"DRVTAP_REAL", real_path, PATH_UNITS);
    if (n == 0 || n >= PATH_UNITS) {
        real_path[0] = 0;
        if (cfg_line(0, real_path, PATH_UNITS, dir, PATH_UNITS))
            resolve_against(real_path, PATH_UNITS, dir);
    }
    n = GetEnvironmentVariableW(L"DRVTAP_TAPE", tape_path, PATH_UNITS);
    if (n == 0 || n >= PATH_UNITS) {
        tape_path[0] = 0;
        if (cfg_line(1, tape_path, PATH_UNITS, dir, PATH_UNITS)) {
            resolve_against(tape_path, PATH_UNITS, dir);
        } else {
            const WCHAR *base = wcsrchr(real_path, L'\\');
            const WCHAR *fwd = wcsrchr(real_path, L'/');
            base = fwd > base ? fwd : base;
            base = base ? base + 1 : real_path[0] ? real_path : L"driver";
            WCHAR stem[MAX_PATH];
            lstrcpynW(stem, base, MAX_PATH);
            WCHAR *dot = wcsrchr(stem, L'.');
            if (dot && dot != stem)
                *dot = 0;
            _snwprintf(tape_path, PATH_UNITS, L"%ls.%lu.drvtape", stem, (unsigned long)pid);
            tape_path[PATH_UNITS - 1] = 0;
        }
    }
    n = GetEnvironmentVariableW(L"DRVTAP_FLUSH", value, ARRAYSIZE(value));
    flush_every = n > 0 && n < ARRAYSIZE(value) && lstrcmpiW(value, L"every") == 0;
    memory_configure();
}

/* An exception of error severity raised while this thread is inside a forwarded call: a
   FAULT record (at most DRVTAP_MAX_FAULTS per call). Vectored, so it runs before any
   handler: if the driver handles the exception itself, the call's RETURN follows and the
   reader knows it was not fatal; if the process dies, the FAULT is the last word. */
static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
    DWORD code = ep->ExceptionRecord->ExceptionCode;
    if ((code & 0xC0000000u) != 0xC0000000u || !tape_is_open())
        return EXCEPTION_CONTINUE_SEARCH;
    uint32_t depth = (uint32_t)(uintptr_t)TlsGetValue(tls_depth);
    uintptr_t call = (uintptr_t)TlsGetValue(tls_call);
    if (depth == 0 || call == 0 || (call & 0xFF) >= DRVTAP_MAX_FAULTS)
        return EXCEPTION_CONTINUE_SEARCH;
    DWORD last_error = GetLastError(); /* a driver that handles the exception may read it */
    TlsSetValue(tls_call, (void *)(call + 1));
    uintptr_t addr = (uintptr_t)ep->ExceptionRecord->ExceptionAddress;
    WCHAR base[MAX_PATH];
    uint64_t offset = module_offset(addr, base, MAX_PATH);
    uint8_t body[64 + 4 + MAX_PATH * sizeof(WCHAR)];
    buf_t b = {body, 0, sizeof body};
    put32(&b, DRVTAP_REC_FAULT);
    put32(&b, pid);
    put32(&b, GetCurrentThreadId());
    put32(&b, depth - 1);
    put64(&b, 0);
    put64(&b, 0);
    put64(&b, (uint64_t)(call >> 8));
    put32(&b, code);
    put32(&b, 0);
    put64(&b, (uint64_t)addr);
    put64(&b, offset);
    put_wide(&b, base);
    tape_append(body, b.len, TRUE);
    SetLastError(last_error);
    return EXCEPTION_CONTINUE_SEARCH;
}

/* On the first message: configure, open the tape and write the session header, load the
   real driver (once: it stays loaded until the tap is unloaded). */
static void ensure_started(void)
{
    if (started)
        return;
    EnterCriticalSection(&start_lock);
    if (!started) {
        configure();
        if (tape_open(tape_path, flush_every)) {
            write_header();
            exception_handler = AddVectoredExceptionHandler(0, on_exception);
        } else {
            OutputDebugStringA("drvtap: cannot open the tape; messages are forwarded unrecorded\n");
        }
        if (real_proc) {
            /* a function driver, given by drvtap_forward_to */
        } else if (real_path[0]) {
            real_module = LoadLibraryExW(real_path, NULL, is_absolute(real_path) ? LOAD_WITH_ALTERED_SEARCH_PATH : 0);
            if (real_module) {
                real_proc = (DRIVERPROC)(void *)GetProcAddress(real_module, "DriverProc");
                for (uint32_t e = 1; e < ENTRY_POINTS; e++)
                    real_device[e] = (DEVICEPROC)(void *)GetProcAddress(real_module, device_entry_name(e));
            }
            if (!real_proc)
                OutputDebugStringA("drvtap: cannot load the real driver or find its DriverProc\n");
        } else {
            OutputDebugStringA("drvtap: no real driver configured (DRVTAP_REAL or drvtap.cfg)\n");
        }
        InterlockedExchange(&started, 1);
    }
    LeaveCriticalSection(&start_lock);
}

/* ---- the entry points --------------------------------------------------------------- */

/* The hook's way in (native/hook/taps.c), before the first message: forward to a function
   driver (acmDriverAdd, ICInstall with a DRIVERPROC) rather than load the configured real
   driver, which then only names the module the function is in. */
__declspec(dllexport) void drvtap_forward_to(DRIVERPROC proc)
{
    real_proc = proc;
}

/* The fixed fields every record but the header starts with: type, pid, thread, then a
   u32 (depth or reason), then seq and QPC (filled by tape_append). */
static void put_prefix(buf_t *b, uint32_t type, uint32_t third)
{
    put32(b, type);
    put32(b, pid);
    put32(b, GetCurrentThreadId());
    put32(b, third);
    put64(b, 0);
    put64(b, 0);
}

/* One call to forward: DriverProc's arguments, or a device entry point's in their places
   (drvtap.h: uDeviceID as hdrvr, dwUser as id). */
typedef struct {
    uint32_t entry;
    UINT msg;
    DWORD_PTR id;
    uint64_t hdrvr;
    LPARAM l1, l2;
} tap_call_t;

static LRESULT forward(const tap_call_t *c)
{
    if (c->entry == ENTRY_DRIVERPROC) {
        DRIVERPROC proc = real_proc;
        return proc ? proc(c->id, (HDRVR)(uintptr_t)c->hdrvr, c->msg, c->l1, c->l2) : 0;
    }
    DEVICEPROC proc = real_device[c->entry];
    return proc ? (LRESULT)proc((UINT)c->hdrvr, c->msg, c->id, (DWORD_PTR)c->l1, (DWORD_PTR)c->l2)
                : MMSYSERR_NOTSUPPORTED;
}

/* What a RETURN record says as its driver_id: the id, but after a device open the instance
   the driver stored at dwUser (drvtap.h). */
static uint64_t returned_id(const tap_call_t *c, LRESULT r)
{
    if (c->entry == ENTRY_DRIVERPROC || c->msg != device_open_msg(c->entry) || r != MMSYSERR_NOERROR)
        return (uint64_t)c->id;
    DWORD_PTR instance = 0;
    if (readable((const void *)c->id, sizeof instance) == sizeof instance)
        memcpy(&instance, (const void *)c->id, sizeof instance);
    return (uint64_t)instance;
}

/* Long only by the two records it writes around the forwarded call; GetLastError is kept
   across the tap's own work in both directions. */
static LRESULT recorded_call(const tap_call_t *c)
{
    DWORD last_error = GetLastError();
    ensure_started();
    uint32_t depth = (uint32_t)(uintptr_t)TlsGetValue(tls_depth);
    TlsSetValue(tls_depth, (void *)(uintptr_t)(depth + 1));
    InterlockedIncrement(&in_flight);

    uint8_t body[CALL_BUF];
    buf_t b = {body, 0, CALL_BUF};
    uint64_t call_seq = 0;
    BOOL recording = tape_is_open();
    const dm_message *memory = recording ? memory_of(c->entry, c->id, c->msg) : NULL;
    if (recording) {
        put_prefix(&b, DRVTAP_REC_CALL, depth);
        put32(&b, c->msg);
        put32(&b, c->entry << 16); /* u16 n_payloads (patched below), u16 entry_point */
        put64(&b, (uint64_t)c->id);
        put64(&b, c->hdrvr);
        put64(&b, (uint64_t)c->l1);
        put64(&b, (uint64_t)c->l2);
        unsigned n = c->entry == ENTRY_DRIVERPROC ? add_payloads(&b, c->msg, c->l1, c->l2) : 0;
        if (b.len <= b.cap) {
            patch32(&b, 36, n | c->entry << 16);
            call_seq = tape_append(body, b.len, TRUE);
        }
        if (memory && call_seq)
            capture_memory(memory, DM_IN, call_seq, pid, c->l1, c->l2);
    }

    void *outer_call = TlsGetValue(tls_call);
    TlsSetValue(tls_call, (void *)(uintptr_t)(call_seq << 8));
    SetLastError(last_error);
    LRESULT r = forward(c);
    last_error = GetLastError();
    TlsSetValue(tls_call, outer_call);

    if (recording) {
        if (memory && call_seq)
            capture_memory(memory, DM_OUT, call_seq, pid, c->l1, c->l2);
        if (c->entry == ENTRY_DRIVERPROC && c->msg == DRV_OPEN)
            instance_opened((DWORD_PTR)r, c->l2);
        else if (c->entry == ENTRY_DRIVERPROC && c->msg == DRV_CLOSE && r)
            instance_closed(c->id);
        b.len = 0;
        put_prefix(&b, DRVTAP_REC_RETURN, depth);
        put64(&b, call_seq);
        put32(&b, c->msg);
        put32(&b, c->entry);
        put64(&b, returned_id(c, r));
        put64(&b, c->hdrvr);
        put64(&b, (uint64_t)r);
        tape_append(body, b.len, TRUE);
    }

    InterlockedDecrement(&in_flight);
    TlsSetValue(tls_depth, (void *)(uintptr_t)depth);
    SetLastError(last_error);
    return r;
}

__declspec(dllexport) LRESULT WINAPI DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    tap_call_t c = {ENTRY_DRIVERPROC, msg, id, (uint64_t)(uintptr_t)hdrvr, l1, l2};
    return recorded_call(&c);
}

/* The device entry points. None is exported here: the tap built for a real driver exports
   those the real driver has (dllhost/build.py writes a .def naming them), so that
   GetProcAddress on the tap fails for the others as it does on the real driver. */
#define DEVICE_ENTRY(name, code)                                                                     \
    DWORD WINAPI tap_##name(UINT device, UINT msg, DWORD_PTR user, DWORD_PTR p1, DWORD_PTR p2)       \
    {                                                                                                \
        tap_call_t c = {code, msg, user, device, (LPARAM)p1, (LPARAM)p2};                            \
        return (DWORD)recorded_call(&c);                                                             \
    }
DEVICE_ENTRY(wodMessage, ENTRY_WOD)
DEVICE_ENTRY(widMessage, ENTRY_WID)
DEVICE_ENTRY(modMessage, ENTRY_MOD)
DEVICE_ENTRY(midMessage, ENTRY_MID)
DEVICE_ENTRY(mxdMessage, ENTRY_MXD)
DEVICE_ENTRY(auxMessage, ENTRY_AUX)

/* END (the tap is unloaded) or DETACH (the process is exiting): same layout. */
static void write_last_word(uint32_t type, uint32_t reason)
{
    uint8_t body[40];
    buf_t b = {body, 0, sizeof body};
    put_prefix(&b, type, reason);
    put32(&b, (uint32_t)in_flight);
    put32(&b, 0);
    tape_append(body, b.len, TRUE);
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    switch (reason) {
    case DLL_PROCESS_ATTACH:
        self = inst;
        pid = GetCurrentProcessId();
        InitializeCriticalSection(&start_lock);
        tls_depth = TlsAlloc();
        tls_call = TlsAlloc();
        DisableThreadLibraryCalls(inst);
        break;
    case DLL_PROCESS_DETACH:
        if (reserved) {
            /* Process exit. Messages can still come after this: the loader detaches DLLs in
               the reverse order of loading, so a DLL loaded before us detaches after us and
               may close its instances then. Observed under Wine 8.0: msacm32's detach sends
               DRV_CLOSE for each ACM instance still open, DRV_DISABLE and DRV_FREE; winmm
               sends nothing for OpenDriver instances left open. So: a DETACH record, the views
               and the real driver left as they are (the system takes them with the process),
               and every later record still written. */
            tape_exiting();
            write_last_word(DRVTAP_REC_DETACH, 0);
            break;
        }
        /* FreeLibrary: the last instance is closed. The real driver goes with us; under
           Wine 8.0 its DllMain runs inside this call, as a FreeLibrary's does. (Windows
           documents limits on what DllMain may call: checked under Wine only.) */
        if (real_module)
            FreeLibrary(real_module);
        write_last_word(DRVTAP_REC_END, DRVTAP_END_UNLOADED);
        tape_close();
        if (exception_handler)
            RemoveVectoredExceptionHandler(exception_handler);
        if (tls_depth != TLS_OUT_OF_INDEXES)
            TlsFree(tls_depth);
        if (tls_call != TLS_OUT_OF_INDEXES)
            TlsFree(tls_call);
        DeleteCriticalSection(&start_lock);
        break;
    }
    return TRUE;
}
