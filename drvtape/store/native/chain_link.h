/* A row's hash-chain link, as drvtape/store/chain.py defines it. */
#ifndef DRVTAPE_CHAIN_LINK_H
#define DRVTAPE_CHAIN_LINK_H

#include "packed_rows.h"

#define LINK_BYTES 16

typedef struct {
    unsigned char *bytes; /* previous link, then the row's canonical text */
    size_t capacity;
} link_buffer;

/* link = first 16 bytes of SHA-256(previous || canonical(row)), in place; 0 when out of memory. */
int chain_next_link(link_buffer *buffer, unsigned char link[LINK_BYTES], const packed_row *row);

void link_buffer_free(link_buffer *buffer);

#endif
