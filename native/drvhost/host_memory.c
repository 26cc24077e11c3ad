/* Rebuilding a call's memory in the host and reading back what the driver wrote: see
   host_memory.h. Every op is checked when the batch is read (ids, op kinds, lengths) and
   again against the block's size when it runs: a bad op is an ERROR, never a stray write. */
#define WIN32_LEAN_AND_MEAN
#include "host_memory.h"

#include <string.h>

#include "host_batch.h"
#include "host_output.h"

#define MAX_BLOCK (1ull << 28)

static unsigned char **block_at; /* block_at[id]: its memory, NULL when not allocated */
static uint64_t *block_size;
static uint32_t max_block;
static const unsigned char **ops_first; /* ops_first[i]: call i's first op in the wire */

static uint64_t padded(uint64_t n)
{
    return (n + 7) & ~7ull;
}

void memory_read_ops(unsigned char *wire, uint64_t ops_bytes, uint32_t n_blocks)
{
    uint64_t pos = 0;
    max_block = n_blocks;
    block_at = alloc_or_fail(((size_t)n_blocks + 1) * sizeof *block_at, "the block table");
    block_size = alloc_or_fail(((size_t)n_blocks + 1) * sizeof *block_size, "the block table");
    ops_first = alloc_or_fail(((size_t)n_calls + 1) * sizeof *ops_first, "the op table");
    for (uint32_t i = 0; i < n_calls; i++) {
        ops_first[i] = wire + pos;
        for (uint32_t k = 0; k < calls[i].n_ops; k++) {
            mem_op_t op;
            if (ops_bytes - pos < sizeof op)
                fail("drvhost: call %u's memory ops are truncated", i);
            memcpy(&op, wire + pos, sizeof op);
            pos += sizeof op;
            if (op.op < OP_ALLOC || op.op > OP_READ || !op.id || op.id > n_blocks ||
                (op.op == OP_PATCH && (op.target > n_blocks || op.width != sizeof(void *))) ||
                (op.op == OP_ALLOC && op.len > MAX_BLOCK))
                fail("drvhost: call %u has a bad memory op (op %u, block %u)", i, op.op, op.id);
            if (op.op == OP_WRITE) {
                if (op.len > MAX_BLOCK || ops_bytes - pos < padded(op.len))
                    fail("drvhost: call %u writes more bytes than were sent", i);
                pos += padded(op.len);
            }
        }
    }
    ops_first[n_calls] = wire + pos;
    if (pos != ops_bytes)
        fail("drvhost: %llu bytes of memory ops belong to no call", (unsigned long long)(ops_bytes - pos));
}

LPARAM memory_block(uint32_t id)
{
    if (id > max_block)
        fail("drvhost: no block %u", id);
    return (LPARAM)block_at[id];
}

static unsigned char *in_block(uint32_t i, const mem_op_t *op, uint64_t len)
{
    unsigned char *b = block_at[op->id];
    if (!b || op->offset > block_size[op->id] || len > block_size[op->id] - op->offset)
        fail("drvhost: call %u's op %u reaches outside block %u", i, op->op, op->id);
    return b + op->offset;
}

static void alloc_block(uint32_t i, const mem_op_t *op)
{
    if (block_at[op->id])
        fail("drvhost: call %u allocates block %u twice", i, op->id);
    /* Zeroed, as an output buffer the driver fills must start; 1 byte for an empty block. */
    block_at[op->id] = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, op->len ? op->len : 1);
    if (!block_at[op->id])
        fail("drvhost: out of memory for block %u (%llu bytes)", op->id, (unsigned long long)op->len);
    block_size[op->id] = op->len;
}

static void patch(uint32_t i, const mem_op_t *op)
{
    uint64_t addr = 0;
    if (op->target) {
        if (!block_at[op->target] || op->len > block_size[op->target])
            fail("drvhost: call %u points into block %u outside it", i, op->target);
        addr = (uint64_t)(uintptr_t)(block_at[op->target] + op->len);
    }
    memcpy(in_block(i, op, op->width), &addr, op->width); /* little-endian: the low 4 bytes for width 4 */
}

void memory_before(uint32_t i)
{
    const unsigned char *p = ops_first[i];
    for (uint32_t k = 0; k < calls[i].n_ops; k++) {
        mem_op_t op;
        memcpy(&op, p, sizeof op);
        p += sizeof op;
        if (op.op == OP_ALLOC)
            alloc_block(i, &op);
        else if (op.op == OP_WRITE) {
            memcpy(in_block(i, &op, op.len), p, op.len);
            p += padded(op.len);
        } else if (op.op == OP_PATCH)
            patch(i, &op);
    }
}

int memory_after(uint32_t i)
{
    int reads = 0;
    const unsigned char *p = ops_first[i];
    for (uint32_t k = 0; k < calls[i].n_ops; k++) {
        mem_op_t op;
        memcpy(&op, p, sizeof op);
        p += sizeof op;
        if (op.op == OP_WRITE)
            p += padded(op.len);
        else if (op.op == OP_READ) {
            emit_memory(i, op.id, op.offset, in_block(i, &op, op.len), op.len);
            reads++;
        }
        else if (op.op == OP_FREE && block_at[op.id]) {
            HeapFree(GetProcessHeap(), 0, block_at[op.id]);
            block_at[op.id] = NULL;
        }
    }
    return reads;
}
