/*
 * The size of a catalog node's memory (memcatalog.h), computed as
 * drvtape/schema/memory/sizes.py's evaluate_size computes it: every intermediate saturates
 * at UINT64_MAX, so a hostile header gives a size beyond the node's cap (not read), never a
 * wrapped small one. The caller reads memory through dm_reader, having already read the
 * nodes a size depends on (a self-sized struct: its header first).
 */
#ifndef MEMCATALOG_EVAL_H
#define MEMCATALOG_EVAL_H

#include "memcatalog.h"

typedef struct {
    /* the little-endian unsigned `width`-byte field at `offset` of node `node`'s memory
       (as read so far in this phase); 0 where nothing was read */
    uint64_t (*field)(void *ctx, int node, uint32_t offset, uint32_t width);
    void *ctx;
    uint64_t lparam[2];  /* the message's lParam1 and lParam2 */
} dm_reader;

static inline uint64_t dm_sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static inline uint64_t dm_sat_mul(uint64_t a, uint64_t b) { return b && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

static inline uint64_t dm_abs32(uint64_t v) { return (v & 0x80000000u) ? (uint64_t)(0x100000000ull - v) : v; }

/* BITMAPINFOHEADER (wingdi.h) + colour table; three DWORD masks after a 40-byte BI_BITFIELDS header */
static inline uint64_t dm_dib_header(const dm_reader *r, int n)
{
    uint64_t bi_size = r->field(r->ctx, n, 0, 4), bits = r->field(r->ctx, n, 14, 2);
    uint64_t compression = r->field(r->ctx, n, 16, 4), used = r->field(r->ctx, n, 32, 4);
    uint64_t colours = used ? used : (bits >= 1 && bits <= 8 ? (uint64_t)1 << bits : 0);
    uint64_t masks = compression == 3 && bi_size == 40 ? 12 : 0;
    return dm_sat_add(dm_sat_add(bi_size, dm_sat_mul(4, colours)), masks);
}

/* biSizeImage, or DWORD-aligned rows of an uncompressed image when it is 0 */
static inline uint64_t dm_dib_image(const dm_reader *r, int n)
{
    uint64_t size_image = r->field(r->ctx, n, 20, 4);
    if (size_image)
        return size_image;
    uint64_t width = dm_abs32(r->field(r->ctx, n, 4, 4)), height = dm_abs32(r->field(r->ctx, n, 8, 4));
    uint64_t bits = r->field(r->ctx, n, 14, 2);
    uint64_t stride = dm_sat_mul(dm_sat_add(dm_sat_mul(width, bits), 31) / 32, 4);
    return dm_sat_mul(stride, height);
}

/* A NUL-terminated WCHAR string, its NUL included; beyond cap when no NUL comes within it */
static inline uint64_t dm_wstr(const dm_reader *r, int n, uint32_t cap)
{
    for (uint32_t unit = 0; unit < cap / 2; unit++)
        if (r->field(r->ctx, n, 2 * unit, 2) == 0)
            return 2 * (uint64_t)unit + 2;
    return (uint64_t)cap + 2;
}

static inline uint64_t dm_node_size(const dm_message *m, int index, const dm_reader *r)
{
    const dm_node *node = &m->nodes[index];
    const dm_size *s = &node->size;
    int from = s->from == DM_FROM_SELF ? index : s->from == DM_FROM_PARENT ? node->parent : s->from;
    switch (s->op) {
    case DM_SZ_CONST:
        return s->add;
    case DM_SZ_FIELD:
        return dm_sat_add(dm_sat_mul(r->field(r->ctx, from, s->offset, s->width), s->mul), s->add);
    case DM_SZ_LPARAM:
        return r->lparam[node->param == 1 ? 1 : 0];
    case DM_SZ_DIB_HEADER:
        return dm_dib_header(r, from);
    case DM_SZ_DIB_IMAGE:
        return dm_dib_image(r, from);
    case DM_SZ_WSTR:
        return dm_wstr(r, from, s->cap);
    case DM_SZ_WAVEFORMATEX:  /* mmreg.h: WAVE_FORMAT_PCM has no cbSize */
        return r->field(r->ctx, from, 0, 2) == 1 ? 16 : 18 + r->field(r->ctx, from, 16, 2);
    }
    return UINT64_MAX;
}

#endif
