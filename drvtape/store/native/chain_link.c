/* canonical(row): the 14 fields (15 when entry_point is set), integers in decimal, NULL as
 * `None`, text as it is, joined by 0x1F: Python's "%s" of each value (chain.py). */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "chain_link.h"

#define DECIMAL_MAX 20 /* digits of UINT64_MAX, or a sign and the 19 of INT64_MIN */
#define ENTRY_POINT 14

static size_t write_unsigned(char *out, uint64_t value)
{
    char digits[DECIMAL_MAX];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

static size_t write_field(char *out, const packed_field *field)
{
    switch (field->tag) {
    case TAG_INT:
        if (field->num.i < 0) {
            *out = '-';
            return 1 + write_unsigned(out + 1, 0 - (uint64_t)field->num.i);
        }
        return write_unsigned(out, (uint64_t)field->num.i);
    case TAG_UINT:
        return write_unsigned(out, field->num.u);
    case TAG_TEXT:
        memcpy(out, field->text, field->text_len);
        return field->text_len;
    default:
        memcpy(out, "None", 4);
        return 4;
    }
}

static int reserve(link_buffer *buffer, size_t needed)
{
    if (needed <= buffer->capacity)
        return 1;
    size_t capacity = needed > 2 * buffer->capacity ? needed : 2 * buffer->capacity;
    unsigned char *grown = realloc(buffer->bytes, capacity);
    if (!grown)
        return 0;
    buffer->bytes = grown;
    buffer->capacity = capacity;
    return 1;
}

int chain_next_link(link_buffer *buffer, unsigned char link[LINK_BYTES], const packed_row *row)
{
    int joined = row->count > ENTRY_POINT && row->fields[ENTRY_POINT].tag != TAG_NULL ? row->count : ENTRY_POINT;
    size_t needed = LINK_BYTES;
    for (int i = 0; i < joined; i++)
        needed += 1 + (row->fields[i].tag == TAG_TEXT ? row->fields[i].text_len : DECIMAL_MAX);
    if (!reserve(buffer, needed))
        return 0;
    memcpy(buffer->bytes, link, LINK_BYTES);
    char *out = (char *)buffer->bytes + LINK_BYTES;
    for (int i = 0; i < joined; i++) {
        if (i)
            *out++ = 0x1f;
        out += write_field(out, &row->fields[i]);
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned int digest_len;
    if (!buffer->sha256 && !(buffer->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)))
        return 0;
    if (!buffer->digest && !(buffer->digest = EVP_MD_CTX_new()))
        return 0;
    if (!EVP_DigestInit_ex(buffer->digest, buffer->sha256, NULL)
        || !EVP_DigestUpdate(buffer->digest, buffer->bytes, (size_t)((unsigned char *)out - buffer->bytes))
        || !EVP_DigestFinal_ex(buffer->digest, digest, &digest_len))
        return 0;
    memcpy(link, digest, LINK_BYTES);
    return 1;
}

void link_buffer_free(link_buffer *buffer)
{
    free(buffer->bytes);
    EVP_MD_CTX_free(buffer->digest);
    EVP_MD_free(buffer->sha256);
    memset(buffer, 0, sizeof(*buffer));
}
