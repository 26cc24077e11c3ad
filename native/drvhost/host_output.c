/* The host -> drvtape records (drvhost.c's header comment has the protocol), buffered: see
   host_output.h. */
#define WIN32_LEAN_AND_MEAN
#include "host_output.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#pragma pack(push, 1)
typedef struct {
    uint32_t kind, index;
    int64_t a, b;
    uint32_t tail_len, reserved;
} record_t;
#pragma pack(pop)

static HANDLE out_h;
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
static void append_locked(uint32_t kind, uint32_t index, int64_t a, int64_t b, const void *tail,
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

void emit_return(uint32_t index, int64_t result, int64_t ns)
{
    AcquireSRWLockExclusive(&out_lock);
    append_locked(REC_RETURN, index, result, ns, NULL, 0);
    if (out_len >= sizeof out_buf / 4)
        flush_locked();
    ReleaseSRWLockExclusive(&out_lock);
}

void emit_memory(uint32_t index, uint32_t id, uint64_t offset, const void *data, uint64_t len)
{
    AcquireSRWLockExclusive(&out_lock);
    if (sizeof(record_t) + len <= sizeof out_buf)
        append_locked(REC_MEMORY, index, id, (int64_t)offset, data, (uint32_t)len);
    else { /* a frame larger than the buffer goes out directly, after what was buffered */
        record_t r = {REC_MEMORY, index, id, (int64_t)offset, (uint32_t)len, 0};
        flush_locked();
        write_all(&r, sizeof r);
        write_all(data, len);
    }
    ReleaseSRWLockExclusive(&out_lock);
}

void flush_returns(void)
{
    AcquireSRWLockExclusive(&out_lock);
    flush_locked();
    ReleaseSRWLockExclusive(&out_lock);
}

/* A final record: write it with everything buffered before it, then end the process. */
void __attribute__((noreturn))
emit_final(uint32_t kind, uint32_t index, int64_t a, int64_t b, const char *tail, UINT exit_code)
{
    AcquireSRWLockExclusive(&out_lock);
    append_locked(kind, index, a, b, tail, tail ? (uint32_t)strlen(tail) : 0);
    flush_locked();
    TerminateProcess(GetCurrentProcess(), exit_code);
    for (;;)
        Sleep(INFINITE);
}

void __attribute__((noreturn)) fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit_final(REC_ERROR, NO_CALL, 0, 0, msg, 2);
}

void output_start(HANDLE pipe)
{
    out_h = pipe;
    last_write = (LONG64)GetTickCount64();
}

void emit_now(uint32_t kind, uint32_t index, int64_t a, int64_t b)
{
    AcquireSRWLockExclusive(&out_lock);
    append_locked(kind, index, a, b, NULL, 0);
    flush_locked();
    ReleaseSRWLockExclusive(&out_lock);
}

void keep_alive(void)
{
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
