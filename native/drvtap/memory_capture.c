/* MEMORY records: see memory_capture.h, and drvtap.h for the record's layout. */
#define WIN32_LEAN_AND_MEAN
#include "memory_capture.h"

#include <mmsystem.h>
#include <vfw.h>
#include <string.h>
#include <wchar.h>

#include "drvtap.h"
#include "memcatalog_eval.h"
#include "record.h"
#include "tape_writer.h"

#define INSTANCE_SLOTS 1024u /* open instances the tap tells apart; more are class-free */
#define MAX_PATH_LEN 255u
#define MAX_NODES 32u

/* Open addressing on the instance id; written under instance_lock, read without it (an id
   and its class are stored apart, so a reader may see an id with the slot's old class for
   the moment of an open: that instance has sent nothing yet). */
typedef struct {
    volatile DWORD_PTR id;
    volatile uint8_t cls;
} instance_t;

static instance_t instances[INSTANCE_SLOTS];
static CRITICAL_SECTION instance_lock;
static size_t memory_cap = DRVTAP_MEMORY_CAP_DEFAULT;

void memory_configure(void)
{
    WCHAR value[32];
    InitializeCriticalSection(&instance_lock);
    DWORD n = GetEnvironmentVariableW(L"DRVTAP_MEMORY_CAP", value, ARRAYSIZE(value));
    if (n > 0 && n < ARRAYSIZE(value))
        memory_cap = (size_t)wcstoull(value, NULL, 10);
    size_t fits = DRVTAP_MAX_BODY - DRVTAP_MEMORY_FIXED - MAX_PATH_LEN;
    if (memory_cap > fits)
        memory_cap = fits;
}

static size_t slot_of(DWORD_PTR id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 54) % INSTANCE_SLOTS;
}

uint8_t instance_class(DWORD_PTR id)
{
    if (id == 0)
        return DM_CLS_DRV;
    for (size_t i = slot_of(id), n = 0; n < INSTANCE_SLOTS; i = (i + 1) % INSTANCE_SLOTS, n++) {
        DWORD_PTR at = instances[i].id;
        if (at == id)
            return instances[i].cls;
        if (at == 0)
            break;
    }
    return DM_CLS_DRV;
}

static void set_class(DWORD_PTR id, uint8_t cls)
{
    EnterCriticalSection(&instance_lock);
    for (size_t i = slot_of(id), n = 0; n < INSTANCE_SLOTS; i = (i + 1) % INSTANCE_SLOTS, n++) {
        if (instances[i].id == id || instances[i].id == 0) {
            instances[i].cls = cls;
            instances[i].id = id; /* a closed id keeps its slot, class-free, for its reuse */
            break;
        }
    }
    LeaveCriticalSection(&instance_lock);
}

/* ICOPEN (vfw.h: fccType 'vidc' from ICOpen, or 'vids') -> VfW; ACMDRVOPENDESCW ('audc') -> ACM;
   MCI_OPEN_DRIVER_PARMS (record.h: is_mci_open) -> MCI. */
static uint8_t open_struct_class(const void *p)
{
    DWORD head[2];
    if (readable(p, sizeof head) < sizeof head)
        return DM_CLS_DRV;
    memcpy(head, p, sizeof head);
    if (head[0] == sizeof(ICOPEN) && (head[1] == FOURCC_VIDC || head[1] == FOURCC_VIDS))
        return DM_CLS_VFW;
    if (head[0] >= sizeof(acmdrvopendescw_t) && head[1] == FOURCC_AUDC)
        return DM_CLS_ACM;
    return is_mci_open(p) ? DM_CLS_MCI : DM_CLS_DRV;
}

void instance_opened(DWORD_PTR id, LPARAM l2)
{
    uint8_t cls = open_struct_class((const void *)l2);
    if (id != 0 && (cls != DM_CLS_DRV || instance_class(id) != DM_CLS_DRV))
        set_class(id, cls);
}

void instance_closed(DWORD_PTR id)
{
    if (instance_class(id) != DM_CLS_DRV)
        set_class(id, DM_CLS_DRV);
}

/* ---- walking a message's nodes -------------------------------------------------------- */

typedef struct {
    const uint8_t *addr; /* NULL: no memory (a NULL pointer, or its parent not readable) */
    uint64_t size;       /* computed from the catalog */
    size_t got;          /* readable bytes from addr, at most min(size, memory_cap) */
} block_t;

/* What memcatalog_eval.h's dm_reader reads: the blocks walked so far in this phase, and the
   header of the one being sized (a self-sized struct), SELF_WINDOW bytes checked at once
   when its first field is read. */
#define SELF_WINDOW 64u
#define NOT_CHECKED SIZE_MAX
typedef struct {
    const block_t *blocks;
    int current;
    size_t current_got; /* NOT_CHECKED until a field of the current block is read */
} walk_t;

static uint64_t walk_field(void *ctx, int node, uint32_t offset, uint32_t width)
{
    walk_t *w = ctx;
    uint64_t v = 0;
    if (node < 0 || node > w->current || width > sizeof v)
        return 0;
    const block_t *b = &w->blocks[node];
    size_t end = (size_t)offset + width, got = b->got;
    if (node == w->current && end > SELF_WINDOW)
        got = readable(b->addr, end);
    else if (node == w->current)
        got = w->current_got != NOT_CHECKED ? w->current_got : (w->current_got = readable(b->addr, SELF_WINDOW));
    if (b->addr && end <= got)
        memcpy(&v, b->addr + offset, width);
    return v;
}

/* u32 type, pid, thread, phase; u64 call_seq, address, size; u32 captured, flags; u16 path_len, reserved. */
static void write_block(const char *path, const block_t *b, uint32_t phase, uint64_t call_seq, uint32_t pid,
                        uint32_t flags)
{
    uint8_t head[DRVTAP_MEMORY_FIXED + MAX_PATH_LEN];
    buf_t h = {head, 0, sizeof head};
    size_t path_len = strlen(path);
    if (path_len > MAX_PATH_LEN)
        return;
    size_t captured = flags & DRVTAP_MF_UNREADABLE ? 0 : b->got;
    put32(&h, DRVTAP_REC_MEMORY);
    put32(&h, pid);
    put32(&h, GetCurrentThreadId());
    put32(&h, phase);
    put64(&h, call_seq);
    put64(&h, (uint64_t)(uintptr_t)b->addr);
    put64(&h, b->size);
    put32(&h, (uint32_t)captured);
    put32(&h, flags);
    uint16_t lens[2] = {(uint16_t)path_len, 0};
    put(&h, lens, sizeof lens);
    put(&h, path, path_len);
    tape_append_block(head, h.len, b->addr, captured);
}

void capture_memory(const dm_message *m, uint32_t phase, uint64_t call_seq, uint32_t pid, LPARAM l1, LPARAM l2)
{
    block_t blocks[MAX_NODES];
    walk_t walk = {blocks, 0, 0};
    dm_reader reader = {walk_field, &walk, {(uint64_t)l1, (uint64_t)l2}};
    int n = m->n_nodes < MAX_NODES ? m->n_nodes : MAX_NODES;
    for (int i = 0; i < n; i++) {
        const dm_node *node = &m->nodes[i];
        const uint8_t *addr = NULL;
        if (node->parent < 0) {
            addr = (const uint8_t *)(node->param == 1 ? l1 : l2);
        } else if (node->parent < i) {
            const block_t *parent = &blocks[node->parent];
            if (parent->addr && (size_t)node->ptr_offset + sizeof(void *) <= parent->got)
                memcpy(&addr, parent->addr + node->ptr_offset, sizeof addr);
        }
        block_t *b = &blocks[i];
        *b = (block_t){addr, 0, 0};
        if (!addr)
            continue; /* NULL: no memory; replay passes NULL too */
        walk.current = i;
        walk.current_got = NOT_CHECKED;
        b->size = dm_node_size(m, i, &reader);
        uint32_t flags = 0;
        if (b->size > node->size.cap) {
            flags = DRVTAP_MF_UNREADABLE; /* beyond the catalog's bound: never read */
        } else {
            size_t want = b->size < memory_cap ? (size_t)b->size : memory_cap;
            b->got = readable(addr, want);
            if (b->got < b->size)
                flags = b->got == 0 && want ? DRVTAP_MF_UNREADABLE : DRVTAP_MF_TRUNCATED;
            else if (b->size == 0 && !readable(addr, 1))
                flags = DRVTAP_MF_UNREADABLE; /* e.g. a self-sized header that could not be read */
        }
        if (node->dir & phase)
            write_block(node->path, b, phase, call_seq, pid, flags);
    }
}
