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
 *   durability   env DRVTAP_FLUSH=every: FlushFileBuffers after each record; otherwise each
 *                record is handed to the OS with one WriteFile (survives the process dying,
 *                not the machine)
 * The tape is opened for appending (FILE_APPEND_DATA); the format is in drvtap.h.
 * If the tape cannot be opened the driver still works, unrecorded; if the real driver
 * cannot be loaded every message returns 0 (DRV_LOAD fails, so the system unloads us).
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -shared -o drvtap.dll drvtap.c (the tests build it
 * with drvtape.dllhost.build.compile_pe).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <mmsystem.h>
#include <vfw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "drvcommon.h"
#include "drvtap.h"

/* Not in mingw-w64's headers; the layout of Wine's msacmdrv.h (48 bytes on x64). */
typedef struct {
    DWORD cbStruct;
    FOURCC fccType;
    FOURCC fccComp;
    DWORD dwVersion;
    DWORD dwFlags;
    DWORD dwError;
    LPCWSTR pszSectionName;
    LPCWSTR pszAliasName;
    DWORD dnDevNode;
} acmdrvopendescw_t;

#define FOURCC_VIDC 0x63646976u /* 'vidc' */
#define FOURCC_AUDC 0x63647561u /* 'audc' */
#define PATH_UNITS 4096
#define CALL_BUF (16u * 1024u)

static HINSTANCE self;
static CRITICAL_SECTION start_lock; /* loading the real driver, opening the tape */
static CRITICAL_SECTION write_lock; /* seq + QPC + WriteFile: file order is seq order */
static DWORD tls_depth = TLS_OUT_OF_INDEXES;
static DWORD tls_call = TLS_OUT_OF_INDEXES; /* (innermost call's seq << 8) | exceptions recorded in it */
static PVOID exception_handler;
static volatile LONG started;
static volatile LONG in_flight;
static HANDLE tape = INVALID_HANDLE_VALUE;
static HMODULE real_module;
static DRIVERPROC volatile real_proc;
static uint64_t seq;
static BOOL flush_every;
static DWORD pid;
static uint32_t crc_table[256];
static WCHAR real_path[PATH_UNITS];
static WCHAR tape_path[PATH_UNITS];

/* ---- little helpers ---------------------------------------------------------------- */

static void debug(const char *text)
{
    OutputDebugStringA(text);
}

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* A growing record body in a caller-supplied buffer; writes past the end are dropped
   (the caps keep every record far below the buffer size). */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->len = b->cap + 1; /* marks overflow */
        return;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put32(buf_t *b, uint32_t v) { put(b, &v, 4); }
static void put64(buf_t *b, uint64_t v) { put(b, &v, 8); }

static void patch32(buf_t *b, size_t at, uint32_t v) { memcpy(b->p + at, &v, 4); }
static void patch64(buf_t *b, size_t at, uint64_t v) { memcpy(b->p + at, &v, 8); }

/* How many of the `want` bytes at p are committed, readable memory (0 for NULL and the
   first 64 KiB, which are never mapped on Windows: small LPARAMs are values, not data). */
static size_t readable(const void *p, size_t want)
{
    const uint8_t *a = p;
    size_t got = 0;
    if ((uintptr_t)p < 0x10000u)
        return 0;
    while (got < want) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery(a + got, &mbi, sizeof mbi))
            break;
        DWORD prot = mbi.Protect;
        if (mbi.State != MEM_COMMIT || (prot & (PAGE_GUARD | PAGE_NOACCESS)) ||
            !(prot & (PAGE_READONLY | PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READ |
                      PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY)))
            break;
        size_t end = (size_t)((const uint8_t *)mbi.BaseAddress + mbi.RegionSize - a);
        if (end <= got)
            break;
        got = end;
    }
    return got < want ? got : want;
}

/* Length in code units of a readable NUL-terminated wide string, capped; -1 when the
   pointer is NULL or unreadable. *truncated when the cap (or unreadable memory) cut it. */
static long wstr_len(const WCHAR *s, BOOL *truncated)
{
    *truncated = FALSE;
    size_t units = readable(s, (DRVTAP_MAX_WSTR + 1) * sizeof(WCHAR)) / sizeof(WCHAR);
    if (units == 0)
        return -1;
    for (size_t i = 0; i < units; i++)
        if (s[i] == 0)
            return (long)i;
    *truncated = TRUE;
    return (long)(units > DRVTAP_MAX_WSTR ? DRVTAP_MAX_WSTR : units);
}

/* u32 n_units (DRVTAP_NULL_STRING for NULL/unreadable) + the units. */
static BOOL put_string(buf_t *b, const WCHAR *s)
{
    BOOL truncated;
    long n = wstr_len(s, &truncated);
    if (n < 0) {
        put32(b, DRVTAP_NULL_STRING);
        return FALSE;
    }
    put32(b, (uint32_t)n);
    put(b, s, (size_t)n * sizeof(WCHAR));
    return truncated;
}

/* Payload framing: u8 param, u8 kind, u16 flags, u32 length, data. Returns the offset of
   the header so the caller can patch length and flags once the data is written. */
static size_t payload_begin(buf_t *b, unsigned param, unsigned kind)
{
    size_t at = b->len;
    uint8_t head[8] = {(uint8_t)param, (uint8_t)kind, 0, 0, 0, 0, 0, 0};
    put(b, head, sizeof head);
    return at;
}

static void payload_end(buf_t *b, size_t at, BOOL truncated)
{
    if (b->len > b->cap)
        return;
    uint16_t flags = truncated ? DRVTAP_PF_TRUNCATED : 0;
    memcpy(b->p + at + 2, &flags, 2);
    patch32(b, at + 4, (uint32_t)(b->len - at - 8));
}

static unsigned add_wstr_payload(buf_t *b, unsigned param, const WCHAR *s)
{
    BOOL truncated;
    long n = wstr_len(s, &truncated);
    if (n < 0)
        return 0;
    size_t at = payload_begin(b, param, DRVTAP_P_WSTR);
    put(b, s, (size_t)n * sizeof(WCHAR));
    payload_end(b, at, truncated);
    return 1;
}

static unsigned add_open_struct_payload(buf_t *b, unsigned param, const void *p)
{
    if (readable(p, 8) < 8)
        return 0;
    DWORD size, fcc;
    memcpy(&size, p, 4);
    memcpy(&fcc, (const uint8_t *)p + 4, 4);
    if (size == sizeof(ICOPEN) && fcc == FOURCC_VIDC && readable(p, sizeof(ICOPEN)) == sizeof(ICOPEN)) {
        size_t at = payload_begin(b, param, DRVTAP_P_ICOPEN);
        put(b, p, sizeof(ICOPEN));
        payload_end(b, at, FALSE);
        return 1;
    }
    if (size >= sizeof(acmdrvopendescw_t) && fcc == FOURCC_AUDC &&
        readable(p, sizeof(acmdrvopendescw_t)) == sizeof(acmdrvopendescw_t)) {
        acmdrvopendescw_t a;
        memcpy(&a, p, sizeof a);
        size_t at = payload_begin(b, param, DRVTAP_P_ACMDRVOPENDESCW);
        uint32_t f[] = {a.cbStruct, a.fccType, a.fccComp, a.dwVersion, a.dwFlags, a.dwError, a.dnDevNode};
        put(b, f, sizeof f);
        BOOL t1 = put_string(b, a.pszSectionName);
        BOOL t2 = put_string(b, a.pszAliasName);
        payload_end(b, at, t1 || t2);
        return 1;
    }
    size_t want = size < 4 ? 4 : size > DRVTAP_MAX_BYTES ? DRVTAP_MAX_BYTES : size;
    size_t got = readable(p, want);
    size_t at = payload_begin(b, param, DRVTAP_P_BYTES);
    put(b, p, got);
    payload_end(b, at, got < size);
    return 1;
}

static unsigned add_drvconfiginfo_payload(buf_t *b, unsigned param, const void *p)
{
    if (readable(p, sizeof(DRVCONFIGINFO)) < sizeof(DRVCONFIGINFO))
        return 0;
    DRVCONFIGINFO c; /* byte-packed in mmsystem.h: 20 bytes on x64 */
    memcpy(&c, p, sizeof c);
    size_t at = payload_begin(b, param, DRVTAP_P_DRVCONFIGINFO);
    put32(b, c.dwDCISize);
    BOOL t1 = put_string(b, c.lpszDCISectionName);
    BOOL t2 = put_string(b, c.lpszDCIAliasName);
    payload_end(b, at, t1 || t2);
    return 1;
}

/* ---- writing records ---------------------------------------------------------------- */

/* Frame the body at frame+8 and append it. Under write_lock. */
static void write_frame_locked(uint8_t *frame, size_t body_len)
{
    uint32_t len = (uint32_t)body_len, crc = crc32(frame + 8, body_len);
    memcpy(frame, &len, 4);
    memcpy(frame + 4, &crc, 4);
    DWORD wrote;
    if (!WriteFile(tape, frame, (DWORD)(body_len + 8), &wrote, NULL) || wrote != body_len + 8)
        debug("drvtap: writing the tape failed\n");
    else if (flush_every)
        FlushFileBuffers(tape);
}

/* Assign seq and time, then write: seq at body+16, qpc at body+24 in CALL/RETURN/END. */
static uint64_t write_record(uint8_t *frame, buf_t *body, BOOL lock)
{
    if (tape == INVALID_HANDLE_VALUE || body->len > body->cap)
        return 0;
    if (lock)
        EnterCriticalSection(&write_lock);
    uint64_t s = ++seq;
    patch64(body, 16, s);
    patch64(body, 24, qpc_now());
    write_frame_locked(frame, body->len);
    if (lock)
        LeaveCriticalSection(&write_lock);
    return s;
}

static void put_wide(buf_t *b, const WCHAR *s)
{
    size_t n = wcslen(s);
    put32(b, (uint32_t)n);
    put(b, s, n * sizeof(WCHAR));
}

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
    uint8_t *frame = HeapAlloc(GetProcessHeap(), 0, cap + 8);
    if (!frame)
        return;
    buf_t b = {frame + 8, 0, cap};
    LARGE_INTEGER freq;
    FILETIME now;
    QueryPerformanceFrequency(&freq);
    GetSystemTimeAsFileTime(&now);
    uint64_t start = qpc_now();
    put32(&b, DRVTAP_REC_HEADER);
    put(&b, DRVTAP_MAGIC, 8);
    put32(&b, DRVTAP_VERSION);
    put32(&b, pid);
    put32(&b, flush_every ? DRVTAP_FLAG_FLUSH_EVERY : 0);
    put32(&b, sizeof(void *));
    put32(&b, 0);
    put64(&b, (uint64_t)freq.QuadPart);
    put64(&b, start);
    put64(&b, ((uint64_t)now.dwHighDateTime << 32) | now.dwLowDateTime);
    put64(&b, 0);
    put64(&b, 0);
    put_wide(&b, machine);
    put_wide(&b, os);
    put_wide(&b, image);
    put_wide(&b, real_path);
    put_wide(&b, tap);
    if (b.len <= b.cap) {
        EnterCriticalSection(&write_lock);
        seq = 0;
        write_frame_locked(frame, b.len);
        LeaveCriticalSection(&write_lock);
    }
    HeapFree(GetProcessHeap(), 0, frame);
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
}

/* An exception of error severity raised while this thread is inside a forwarded call: a
   FAULT record (at most DRVTAP_MAX_FAULTS per call). Vectored, so it runs before any
   handler: if the driver handles the exception itself, the call's RETURN follows and the
   reader knows it was not fatal; if the process dies, the FAULT is the last word. */
static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep)
{
    DWORD code = ep->ExceptionRecord->ExceptionCode;
    if ((code & 0xC0000000u) != 0xC0000000u || tape == INVALID_HANDLE_VALUE)
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
    uint8_t frame[8 + 64 + 4 + MAX_PATH * sizeof(WCHAR)];
    buf_t b = {frame + 8, 0, sizeof frame - 8};
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
    write_record(frame, &b, TRUE);
    SetLastError(last_error);
    return EXCEPTION_CONTINUE_SEARCH;
}

/* On the first message (and again after DRV_FREE unloaded the real driver): configure,
   open the tape and write the session header, load the real driver. */
static void ensure_started(void)
{
    if (started)
        return;
    EnterCriticalSection(&start_lock);
    if (!started) {
        if (tape == INVALID_HANDLE_VALUE) {
            configure();
            tape = CreateFileW(tape_path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                               FILE_ATTRIBUTE_NORMAL, NULL);
            if (tape == INVALID_HANDLE_VALUE)
                debug("drvtap: cannot open the tape; messages are forwarded unrecorded\n");
            else
                write_header();
            if (tape != INVALID_HANDLE_VALUE && !exception_handler)
                exception_handler = AddVectoredExceptionHandler(0, on_exception);
        }
        if (real_path[0]) {
            real_module = LoadLibraryExW(real_path, NULL, is_absolute(real_path) ? LOAD_WITH_ALTERED_SEARCH_PATH : 0);
            if (real_module)
                real_proc = (DRIVERPROC)(void *)GetProcAddress(real_module, "DriverProc");
            if (!real_proc)
                debug("drvtap: cannot load the real driver or find its DriverProc\n");
        } else {
            debug("drvtap: no real driver configured (DRVTAP_REAL or drvtap.cfg)\n");
        }
        InterlockedExchange(&started, 1);
    }
    LeaveCriticalSection(&start_lock);
}

/* After the outermost DRV_FREE returned (or DRV_LOAD failed) with nothing else in flight,
   the system unloads a driver: unload the real one too, so a later DRV_LOAD finds it fresh. */
static void unload_real_after_free(void)
{
    EnterCriticalSection(&start_lock);
    if (started && in_flight == 0 && real_module) {
        real_proc = NULL;
        FreeLibrary(real_module);
        real_module = NULL;
        InterlockedExchange(&started, 0);
    }
    LeaveCriticalSection(&start_lock);
}

/* ---- the entry points --------------------------------------------------------------- */

__declspec(dllexport) LRESULT WINAPI DriverProc(DWORD_PTR id, HDRVR hdrvr, UINT msg, LPARAM l1, LPARAM l2)
{
    DWORD last_error = GetLastError();
    ensure_started();
    uint32_t depth = (uint32_t)(uintptr_t)TlsGetValue(tls_depth);
    TlsSetValue(tls_depth, (void *)(uintptr_t)(depth + 1));
    InterlockedIncrement(&in_flight);

    uint8_t frame[CALL_BUF + 8];
    buf_t b = {frame + 8, 0, CALL_BUF};
    uint64_t call_seq = 0;
    if (tape != INVALID_HANDLE_VALUE) {
        put32(&b, DRVTAP_REC_CALL);
        put32(&b, pid);
        put32(&b, GetCurrentThreadId());
        put32(&b, depth);
        put64(&b, 0); /* seq */
        put64(&b, 0); /* qpc */
        put32(&b, msg);
        put32(&b, 0); /* n_payloads */
        put64(&b, (uint64_t)id);
        put64(&b, (uint64_t)(uintptr_t)hdrvr);
        put64(&b, (uint64_t)l1);
        put64(&b, (uint64_t)l2);
        unsigned n = 0;
        switch (msg) {
        case DRV_OPEN:
            n += add_wstr_payload(&b, 1, (const WCHAR *)l1);
            n += add_open_struct_payload(&b, 2, (const void *)l2);
            break;
        case DRV_CONFIGURE:
        case DRV_INSTALL:
        case DRV_REMOVE:
            n += add_drvconfiginfo_payload(&b, 2, (const void *)l2);
            break;
        }
        if (b.len <= b.cap)
            patch32(&b, 36, n);
        call_seq = write_record(frame, &b, TRUE);
    }

    void *outer_call = TlsGetValue(tls_call);
    TlsSetValue(tls_call, (void *)(uintptr_t)(call_seq << 8));
    DRIVERPROC proc = real_proc;
    SetLastError(last_error);
    LRESULT r = proc ? proc(id, hdrvr, msg, l1, l2) : 0;
    last_error = GetLastError();
    TlsSetValue(tls_call, outer_call);

    if (tape != INVALID_HANDLE_VALUE) {
        b.len = 0;
        put32(&b, DRVTAP_REC_RETURN);
        put32(&b, pid);
        put32(&b, GetCurrentThreadId());
        put32(&b, depth);
        put64(&b, 0);
        put64(&b, 0);
        put64(&b, call_seq);
        put32(&b, msg);
        put32(&b, 0);
        put64(&b, (uint64_t)id);
        put64(&b, (uint64_t)(uintptr_t)hdrvr);
        put64(&b, (uint64_t)r);
        write_record(frame, &b, TRUE);
    }

    InterlockedDecrement(&in_flight);
    TlsSetValue(tls_depth, (void *)(uintptr_t)depth);
    if (depth == 0 && (msg == DRV_FREE || (msg == DRV_LOAD && r == 0)))
        unload_real_after_free();
    SetLastError(last_error);
    return r;
}

static void write_end(DWORD reason, BOOL lock)
{
    uint8_t frame[64];
    buf_t b = {frame + 8, 0, sizeof frame - 8};
    put32(&b, DRVTAP_REC_END);
    put32(&b, pid);
    put32(&b, GetCurrentThreadId());
    put32(&b, reason);
    put64(&b, 0);
    put64(&b, 0);
    put32(&b, (uint32_t)in_flight);
    put32(&b, 0);
    write_record(frame, &b, lock);
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    switch (reason) {
    case DLL_PROCESS_ATTACH:
        self = inst;
        pid = GetCurrentProcessId();
        crc_init();
        InitializeCriticalSection(&start_lock);
        InitializeCriticalSection(&write_lock);
        tls_depth = TlsAlloc();
        tls_call = TlsAlloc();
        DisableThreadLibraryCalls(inst);
        break;
    case DLL_PROCESS_DETACH:
        if (tape != INVALID_HANDLE_VALUE) {
            /* At process exit the other threads are already gone (one may have died
               holding write_lock): write without the lock, and leave the handle to the
               system. On FreeLibrary, lock and close. */
            if (reserved) {
                write_end(DRVTAP_END_PROCESS_EXIT, FALSE);
            } else {
                write_end(DRVTAP_END_UNLOADED, TRUE);
                CloseHandle(tape);
                tape = INVALID_HANDLE_VALUE;
            }
        }
        if (!reserved) {
            if (exception_handler)
                RemoveVectoredExceptionHandler(exception_handler);
            if (tls_depth != TLS_OUT_OF_INDEXES)
                TlsFree(tls_depth);
            if (tls_call != TLS_OUT_OF_INDEXES)
                TlsFree(tls_call);
            DeleteCriticalSection(&start_lock);
            DeleteCriticalSection(&write_lock);
        }
        break;
    }
    return TRUE;
}
