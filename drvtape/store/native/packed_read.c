/* Reading packed rows (packed_rows.h); bounds-checked: SQL may hand the table any blob. */
#include <string.h>

#include "packed_rows.h"

static int read_field(const unsigned char *packed, size_t size, size_t *at, packed_field *field)
{
    if (*at >= size)
        return 0;
    field->tag = packed[(*at)++];
    switch (field->tag) {
    case TAG_NULL:
        return 1;
    case TAG_INT:
    case TAG_UINT:
        if (size - *at < 8)
            return 0;
        memcpy(&field->num, packed + *at, 8);
        *at += 8;
        return 1;
    case TAG_TEXT:
        if (size - *at < 4)
            return 0;
        memcpy(&field->text_len, packed + *at, 4);
        *at += 4;
        if (size - *at < field->text_len)
            return 0;
        field->text = (const char *)packed + *at;
        *at += field->text_len;
        return 1;
    default:
        return 0;
    }
}

int packed_read_row(const unsigned char *packed, size_t size, size_t *at, packed_row *row)
{
    if (*at >= size)
        return 0;
    row->count = packed[(*at)++];
    if (row->count < PACKED_MIN_FIELDS || row->count > PACKED_MAX_FIELDS)
        return 0;
    for (int i = 0; i < row->count; i++)
        if (!read_field(packed, size, at, &row->fields[i]))
            return 0;
    return 1;
}
