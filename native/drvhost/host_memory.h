/* The memory behind a call's pointer parameters, rebuilt in the host (protocol v3, drvhost.c's
   header comment): blocks named by id (1..n_blocks; 0 is NULL), and each call's ops.
   Before the call: ALLOC, WRITE, PATCH. After it returns: READ (a MEMORY record back), FREE. */
#ifndef DRVHOST_MEMORY_H
#define DRVHOST_MEMORY_H

#include <windows.h>
#include <stdint.h>

#define OP_ALLOC 1u
#define OP_WRITE 2u
#define OP_PATCH 3u
#define OP_FREE 4u
#define OP_READ 5u

#pragma pack(push, 1)
typedef struct {
    uint32_t op, id;
    uint64_t offset; /* WRITE, PATCH, READ: where in the block */
    uint64_t len;    /* ALLOC: size; WRITE: bytes that follow (padded to 8); READ: bytes; PATCH: target offset */
    uint32_t target; /* PATCH: the block whose address (+ len) is stored; 0 stores NULL */
    uint32_t width;  /* PATCH: this host's pointer size (8 on x64, 4 on x86); another is a bad op */
} mem_op_t;
#pragma pack(pop)

/* Check and index the ops section (ops_bytes at wire) against the calls' op counts. */
void memory_read_ops(unsigned char *wire, uint64_t ops_bytes, uint32_t n_blocks);
/* The address of block id (0: NULL). */
LPARAM memory_block(uint32_t id);
/* Call i's ALLOC/WRITE/PATCH ops, then (after it returned) its READ and FREE ops: how many
   READs it sent back (its RETURN must follow them, even when only differences are sent). */
void memory_before(uint32_t i);
int memory_after(uint32_t i);

#endif
