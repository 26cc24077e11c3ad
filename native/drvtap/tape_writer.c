/* The mapped tape: see tape_writer.h for what it guarantees, drvtap.h for the format. */
#define WIN32_LEAN_AND_MEAN
#include "tape_writer.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "crc32.h"
#include "drvcommon.h"
#include "drvtap.h"

#define CHUNK_ALIGN DRVTAP_CHUNK_ALIGN
#define CHUNK_MIN CHUNK_ALIGN
#define CHUNK_MAX (16u << 20)
#define MUTEX_WAIT_MS 5000u
#define EXIT_SPINS 100000u /* bound on waiting for another thread once the process is exiting */

typedef struct chunk {
    uint8_t *view;
    uint64_t start, end; /* file offsets of the view */
    struct chunk *prev;
} chunk_t;

/* The next record's seq and file offset, swapped together (cmpxchg16b needs 16-byte alignment). */
typedef struct {
    uint64_t seq, pos;
} __attribute__((aligned(16))) cursor_t;

static HANDLE file = INVALID_HANDLE_VALUE;
static HANDLE file_mutex; /* named after the file's identity: shared by every process appending */
static CRITICAL_SECTION grow_lock;
static chunk_t *volatile current;
static volatile cursor_t cursor;
static uint64_t next_chunk = CHUNK_MIN;
static BOOL flush_every;
static volatile LONG exiting;
/* mingw-w64 has no InterlockedCompareExchange128: the instruction itself. On failure
   *expected is what was there. */
static inline BOOL cas_cursor(volatile cursor_t *dst, cursor_t *expected, cursor_t desired)
{
    unsigned char ok;
    __asm__ __volatile__("lock cmpxchg16b %1\n\tsetz %0"
                         : "=q"(ok), "+m"(*dst), "+a"(expected->seq), "+d"(expected->pos)
                         : "b"(desired.seq), "c"(desired.pos)
                         : "cc", "memory");
    return ok;
}

static BOOL lock_file(void)
{
    DWORD r = WaitForSingleObject(file_mutex, exiting ? 0 : MUTEX_WAIT_MS);
    return r == WAIT_OBJECT_0 || r == WAIT_ABANDONED; /* abandoned: its owner died; the file is fine */
}

/* A new chunk of at least `need` bytes at the end of the file, mapped. Under grow_lock. */
static chunk_t *claim_chunk(size_t need)
{
    chunk_t *ch = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *ch);
    if (!ch || !lock_file()) {
        OutputDebugStringA("drvtap: cannot lock the tape to grow it; records are dropped\n");
        if (ch)
            HeapFree(GetProcessHeap(), 0, ch);
        return NULL;
    }
    LARGE_INTEGER size;
    uint64_t len = next_chunk;
    while (len < need)
        len *= 2;
    if (GetFileSizeEx(file, &size)) {
        ch->start = ((uint64_t)size.QuadPart + CHUNK_ALIGN - 1) / CHUNK_ALIGN * CHUNK_ALIGN;
        ch->end = ch->start + len;
        /* A mapping larger than the file extends the file (zero-filled) to its size. */
        HANDLE mapping = CreateFileMappingW(file, NULL, PAGE_READWRITE, (DWORD)(ch->end >> 32), (DWORD)ch->end, NULL);
        if (mapping) {
            ch->view = MapViewOfFile(mapping, FILE_MAP_WRITE, (DWORD)(ch->start >> 32), (DWORD)ch->start, (SIZE_T)len);
            CloseHandle(mapping); /* the view keeps the section */
        }
    }
    ReleaseMutex(file_mutex);
    if (!ch->view) {
        OutputDebugStringA("drvtap: cannot map more of the tape; records are dropped\n");
        HeapFree(GetProcessHeap(), 0, ch);
        return NULL;
    }
    next_chunk = len * 2 > CHUNK_MAX ? CHUNK_MAX : len * 2;
    return ch;
}

/* Move the cursor to a new chunk when `full` is still the current one. FALSE: no room. */
static BOOL grow(chunk_t *full, size_t need)
{
    if (exiting) {
        if (!TryEnterCriticalSection(&grow_lock))
            return FALSE; /* its owner was killed with the other threads */
    } else {
        EnterCriticalSection(&grow_lock);
    }
    BOOL ok = TRUE;
    if (current == full) {
        chunk_t *ch = claim_chunk(need);
        if (ch) {
            ch->prev = full;
            current = ch; /* writers seeing it before the cursor moves wait for the move */
            cursor_t old = {cursor.seq, cursor.pos};
            while (!cas_cursor(&cursor, &old, (cursor_t){old.seq, ch->start}))
                ;
        } else {
            ok = FALSE;
        }
    }
    LeaveCriticalSection(&grow_lock);
    return ok;
}

typedef enum { RESTART_SEQ, NEXT_SEQ, SAME_SEQ } seq_step_t;

/* Take the place of a frame_len-byte frame: its address, with its seq and QPC. */
static uint8_t *reserve(size_t frame_len, seq_step_t step, uint64_t *seq, uint64_t *qpc)
{
    for (unsigned spins = 0;; spins++) {
        chunk_t *ch = current;
        cursor_t old = {cursor.seq, cursor.pos}; /* a torn read only makes the swap fail */
        if (old.pos < ch->start || old.pos > ch->end) { /* another thread is moving to a new chunk */
            if (exiting && spins > EXIT_SPINS)
                return NULL;
            YieldProcessor();
            continue;
        }
        if (old.pos + frame_len > ch->end) {
            if (!grow(ch, frame_len))
                return NULL;
            continue;
        }
        uint64_t now = qpc_now(); /* read before the swap, so a later seq never has an earlier time */
        cursor_t next = {step == NEXT_SEQ ? old.seq + 1 : step == SAME_SEQ ? old.seq : 0, old.pos + frame_len};
        if (cas_cursor(&cursor, &old, next)) {
            *seq = next.seq;
            *qpc = now;
            return ch->view + (old.pos - ch->start);
        }
    }
}

/* The frame's body is in place: its CRC, then its length (until the length is there the
   frame reads as unfinished: length 0), then the flush DRVTAP_FLUSH=every asks for. */
static void seal(uint8_t *frame, uint32_t crc, size_t body_len)
{
    memcpy(frame + 4, &crc, 4);
    __atomic_store_n((uint32_t *)frame, (uint32_t)body_len, __ATOMIC_RELEASE);
    if (flush_every) {
        /* Windows writes a view's pages with FlushViewOfFile and the metadata with
           FlushFileBuffers. Wine's source: FlushViewOfFile is msync(MS_ASYNC), which Linux
           treats as a no-op (msync(2)); FlushFileBuffers' fsync writes the mapped pages too. */
        FlushViewOfFile(frame, body_len + 8);
        FlushFileBuffers(file);
    }
}

uint64_t tape_append(uint8_t *body, size_t body_len, BOOL numbered)
{
    uint64_t seq = 0, qpc = 0;
    uint8_t *frame = file == INVALID_HANDLE_VALUE ? NULL : reserve(body_len + 8, numbered ? NEXT_SEQ : RESTART_SEQ, &seq, &qpc);
    if (!frame)
        return 0;
    if (numbered) {
        memcpy(body + 16, &seq, 8);
        memcpy(body + 24, &qpc, 8);
    }
    memcpy(frame + 8, body, body_len);
    seal(frame, crc32(body, body_len), body_len);
    return seq;
}

BOOL tape_append_block(const uint8_t *head, size_t head_len, const void *data, size_t data_len)
{
    uint64_t seq, qpc;
    size_t body_len = head_len + data_len;
    uint8_t *frame = file == INVALID_HANDLE_VALUE ? NULL : reserve(body_len + 8, SAME_SEQ, &seq, &qpc);
    if (!frame)
        return FALSE;
    memcpy(frame + 8, head, head_len);
    memcpy(frame + 8 + head_len, data, data_len);
    seal(frame, crc32(frame + 8, body_len), body_len); /* of the copy: what the tape holds */
    return TRUE;
}

/* The mutex's name: the file's volume and index, so every path spelling of it agrees. */
static BOOL open_file_mutex(void)
{
    BY_HANDLE_FILE_INFORMATION info;
    WCHAR name[64];
    if (!GetFileInformationByHandle(file, &info))
        return FALSE;
    _snwprintf(name, ARRAYSIZE(name), L"Local\\drvtap-%08lx-%08lx%08lx", info.dwVolumeSerialNumber,
               info.nFileIndexHigh, info.nFileIndexLow);
    name[ARRAYSIZE(name) - 1] = 0;
    file_mutex = CreateMutexW(NULL, FALSE, name);
    return file_mutex != NULL;
}

BOOL tape_open(const WCHAR *path, BOOL flush)
{
    crc_init();
    flush_every = flush;
    file = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                       FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return FALSE;
    chunk_t *first = open_file_mutex() ? claim_chunk(CHUNK_MIN) : NULL;
    if (!first) {
        if (file_mutex)
            CloseHandle(file_mutex);
        CloseHandle(file);
        file = INVALID_HANDLE_VALUE;
        return FALSE;
    }
    InitializeCriticalSection(&grow_lock);
    current = first;
    cursor.seq = 0;
    cursor.pos = first->start;
    return TRUE;
}

BOOL tape_is_open(void)
{
    return file != INVALID_HANDLE_VALUE;
}

void tape_exiting(void)
{
    InterlockedExchange(&exiting, 1);
}

void tape_close(void)
{
    if (file == INVALID_HANDLE_VALUE)
        return;
    BOOL locked = lock_file();
    uint64_t end = current->end, used = cursor.pos;
    for (chunk_t *ch = current, *prev; ch; ch = prev) {
        prev = ch->prev;
        UnmapViewOfFile(ch->view);
        HeapFree(GetProcessHeap(), 0, ch);
    }
    current = NULL;
    LARGE_INTEGER size, at = {.QuadPart = (LONGLONG)used};
    if (locked && GetFileSizeEx(file, &size) && (uint64_t)size.QuadPart == end && SetFilePointerEx(file, at, NULL, FILE_BEGIN))
        SetEndOfFile(file); /* nobody claimed a chunk after ours: drop our zero tail */
    if (locked)
        ReleaseMutex(file_mutex);
    CloseHandle(file_mutex);
    CloseHandle(file);
    file = INVALID_HANDLE_VALUE;
    DeleteCriticalSection(&grow_lock);
}
