/* A row's hash-chain link, as drvtape/store/chain.py defines it. */
#ifndef DRVTAPE_CHAIN_LINK_H
#define DRVTAPE_CHAIN_LINK_H

#include "packed_rows.h"

#define LINK_BYTES 16

#include <openssl/evp.h>

typedef struct {
    unsigned char *bytes; /* previous link, then the row's canonical text */
    size_t capacity;
    EVP_MD *sha256;       /* fetched once per buffer: OpenSSL 3's one-shot SHA256() fetches it per */
    EVP_MD_CTX *digest;   /* call, 0.64 us of a 120-byte hash against 0.23 us with these kept */
} link_buffer;

/* link = first 16 bytes of SHA-256(previous || canonical(row)), in place; 0 when out of memory. */
int chain_next_link(link_buffer *buffer, unsigned char link[LINK_BYTES], const packed_row *row);

void link_buffer_free(link_buffer *buffer);

#endif
