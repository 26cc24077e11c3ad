/* Rows to packed bytes, under the GIL, as codec.to_db_rows would store them.
 *
 * Only what the Python path stores and chains the same way is packed: exact ints within 64
 * bits (signed, or unsigned in an unsigned column), exact strs, None outside NOT NULL
 * columns, rows of 14 or 15 fields. For anything else (a bool, a float, an integer beyond 64
 * bits, text that is not UTF-8...) pack_rows returns None and the caller takes the Python
 * path, the reference, which stores it or raises what it raises: sqlite3's OverflowError for
 * an integer it cannot bind, or an error an earlier row meets first, all in row order.
 */
#include <string.h>

#include "pack_rows.h"
#include "packed_rows.h"

typedef struct {
    char *bytes;
    size_t size, capacity;
} out_buffer;

enum verdict { PACKED, NOT_PACKABLE, NO_MEMORY };

static int reserve(out_buffer *out, size_t more)
{
    if (out->capacity - out->size >= more)
        return 1;
    size_t capacity = out->capacity * 2 > out->size + more ? out->capacity * 2 : out->size + more;
    char *grown = PyMem_Realloc(out->bytes, capacity);
    if (!grown)
        return 0;
    out->bytes = grown;
    out->capacity = capacity;
    return 1;
}

static void put(out_buffer *out, unsigned char tag, const void *value, size_t len)
{
    out->bytes[out->size++] = (char)tag;
    memcpy(out->bytes + out->size, value, len);
    out->size += len;
}

static enum verdict pack_int(out_buffer *out, PyObject *value, int is_unsigned)
{
    int overflow;
    long long signed_value = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (!overflow) {
        put(out, TAG_INT, &signed_value, 8);
        return PACKED;
    }
    if (!is_unsigned)
        return NOT_PACKABLE;
    unsigned long long unsigned_value = PyLong_AsUnsignedLongLong(value);
    if (PyErr_Occurred()) { /* below INT64_MIN or over 64 bits */
        PyErr_Clear();
        return NOT_PACKABLE;
    }
    put(out, TAG_UINT, &unsigned_value, 8);
    return PACKED;
}

static enum verdict pack_text(out_buffer *out, PyObject *value)
{
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(value, &len);
    if (!utf8 || (size_t)len > UINT32_MAX) { /* a lone surrogate: chain.canonical raises it */
        PyErr_Clear();
        return NOT_PACKABLE;
    }
    if (!reserve(out, 5 + (size_t)len + 9 * PACKED_MAX_FIELDS)) /* and the fields after it */
        return NO_MEMORY;
    uint32_t len32 = (uint32_t)len;
    put(out, TAG_TEXT, &len32, 4);
    memcpy(out->bytes + out->size, utf8, (size_t)len);
    out->size += (size_t)len;
    return PACKED;
}

static enum verdict pack_row(out_buffer *out, PyObject *row, unsigned long unsigned_mask, unsigned long not_null_mask)
{
    if (!PyTuple_Check(row))
        return NOT_PACKABLE;
    Py_ssize_t count = PyTuple_GET_SIZE(row);
    if (count < PACKED_MIN_FIELDS || count > PACKED_MAX_FIELDS)
        return NOT_PACKABLE;
    if (!reserve(out, 1 + 9 * (size_t)count))
        return NO_MEMORY;
    out->bytes[out->size++] = (char)count;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = PyTuple_GET_ITEM(row, i);
        unsigned long bit = 1ul << i;
        enum verdict field;
        if (value == Py_None)
            field = not_null_mask & bit ? NOT_PACKABLE : (out->bytes[out->size++] = TAG_NULL, PACKED);
        else if (PyLong_CheckExact(value))
            field = pack_int(out, value, (unsigned_mask & bit) != 0);
        else if (PyUnicode_CheckExact(value) && !(unsigned_mask & bit)) /* text there: codec's TypeError */
            field = pack_text(out, value);
        else
            field = NOT_PACKABLE;
        if (field != PACKED)
            return field;
    }
    return PACKED;
}

PyObject *pack_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "pack_rows(rows: list, unsigned_mask: int, not_null_mask: int)");
        return NULL;
    }
    unsigned long unsigned_mask = PyLong_AsUnsignedLong(args[1]);
    unsigned long not_null_mask = PyLong_AsUnsignedLong(args[2]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *rows = args[0];
    Py_ssize_t count = PyList_GET_SIZE(rows);
    out_buffer out = {NULL, 0, 0};
    enum verdict verdict = PACKED;
    if (!reserve(&out, 128 * (size_t)count + 1))
        return PyErr_NoMemory();
    for (Py_ssize_t r = 0; r < count && verdict == PACKED; r++)
        verdict = pack_row(&out, PyList_GET_ITEM(rows, r), unsigned_mask, not_null_mask);
    PyObject *result;
    if (verdict == PACKED)
        result = PyBytes_FromStringAndSize(out.bytes, (Py_ssize_t)out.size);
    else if (verdict == NOT_PACKABLE)
        result = Py_NewRef(Py_None);
    else
        result = PyErr_NoMemory();
    PyMem_Free(out.bytes);
    return result;
}
