/* The packed rows pack_rows.c writes and rows_vtab.c reads: one bytes object per batch.
 *
 * A row is its field count (14, or 15 with entry_point) in one byte, then each field as a
 * one-byte tag and its value: nothing for NULL, 8 bytes (host order, memcpy'd) for an
 * integer, a 4-byte length and the UTF-8 bytes for text. An integer tagged UINT is an
 * unsigned value above INT64_MAX: its canonical text is unsigned, it is stored as its
 * two's-complement bits (drvtape.schema.values). Rows simply follow one another, so packed
 * slices concatenate into one batch.
 */
#ifndef DRVTAPE_PACKED_ROWS_H
#define DRVTAPE_PACKED_ROWS_H

#include <stddef.h>
#include <stdint.h>

#define PACKED_MAX_FIELDS 15 /* ROW_COLUMNS; the 15th, entry_point, may be absent */
#define PACKED_MIN_FIELDS 14

enum packed_tag { TAG_NULL = 0, TAG_INT = 1, TAG_UINT = 2, TAG_TEXT = 3 };

typedef struct {
    unsigned char tag;
    union {
        int64_t i;
        uint64_t u;
    } num;
    const char *text; /* TAG_TEXT: into the packed bytes, not NUL-terminated */
    uint32_t text_len;
} packed_field;

typedef struct {
    int count;
    packed_field fields[PACKED_MAX_FIELDS];
} packed_row;

/* Decode the row at packed[*at], moving *at past it; 0 when the bytes are not a whole row. */
int packed_read_row(const unsigned char *packed, size_t size, size_t *at, packed_row *row);

#endif
