/* The C size evaluator (native/common/memcatalog_eval.h) on test vectors, for the test that
   it computes what drvtape/schema/memory/sizes.py computes. One vector a line on stdin:
     CLS MSG INDEX LPARAM1 LPARAM2 HEX0 HEX1 ...   (one HEX per node of the message, "-": empty)
   prints the size of node INDEX, or "none" when dm_find does not know the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memcatalog_eval.h"

#define MAX_NODES 16
#define MAX_BYTES 4096

typedef struct { unsigned char bytes[MAX_NODES][MAX_BYTES]; size_t len[MAX_NODES]; } memory;

static uint64_t field(void *ctx, int node, uint32_t offset, uint32_t width)
{
    const memory *m = ctx;
    uint64_t v = 0;
    for (uint32_t i = 0; i < width; i++)
        if (node >= 0 && node < MAX_NODES && offset + i < m->len[node])
            v |= (uint64_t)m->bytes[node][offset + i] << (8 * i);
    return v;
}

static size_t unhex(const char *text, unsigned char *out)
{
    size_t n = 0;
    if (strcmp(text, "-") == 0)
        return 0;
    for (; text[0] && text[1] && n < MAX_BYTES; text += 2) {
        unsigned v;
        sscanf(text, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

int main(void)
{
    static char line[1 << 16];
    static memory m;
    while (fgets(line, sizeof line, stdin)) {
        unsigned cls, msg;
        int index;
        unsigned long long l1, l2;
        int used;
        if (sscanf(line, "%u %x %d %llx %llx%n", &cls, &msg, &index, &l1, &l2, &used) != 5)
            return 2;
        memset(m.len, 0, sizeof m.len);
        char *rest = line + used, *tok;
        for (int n = 0; n < MAX_NODES && (tok = strtok(n ? NULL : rest, " \n")); n++)
            m.len[n] = unhex(tok, m.bytes[n]);
        const dm_message *entry = dm_find((uint8_t)cls, msg);
        if (!entry || index >= entry->n_nodes) {
            puts("none");
            continue;
        }
        dm_reader r = { field, &m, { l1, l2 } };
        printf("%llu\n", (unsigned long long)dm_node_size(entry, index, &r));
    }
    return 0;
}
