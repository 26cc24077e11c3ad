/* JSONL lines of plain call and return events to rows (drvtape.formats.plain_lines).
 *
 * rows_of_lines(lines, start, stop) reads lines[start:stop] while each is a plain call or return
 * line it is sure of, and returns the rows of those (a list of 15-tuples in ROW_COLUMNS
 * order, exactly what drvtape.formats.plain_rows.plain_row makes of orjson's object); it
 * stops at the first line it is not sure of, which the caller reads its own way (the Python
 * path, the reference). Sure means: one JSON object, ASCII only, of exactly plain_row's key
 * set (any order, each key once, no escapes), every value a JSON integer within its field's
 * range (plain_row's struct formats), "kind" "call" or "return", "payload" null; whitespace
 * as JSON allows it. Anything else (a float, a bool, an exponent, a leading zero, a
 * duplicate key, an escape, a byte past ASCII, another key) stops the scan. A line exactly as
 * drvtape writes it is matched against its template first (a third of the instructions).
 */
#include <stdint.h>
#include <string.h>

#include "plain_lines.h"

typedef struct {
    const char *name;
    int column;        /* where its value goes in the row (ROW_COLUMNS); NO_COLUMN: a call's payload */
    enum range range;
} key_spec;

/* In the order drvtape writes them (plain_rows.line_of_row), which a key is looked for from. */
static const key_spec CALL_KEYS[] = {
    {"seq", 0, SIGNED64}, {"ts_ns", 2, COUNT}, {"thread", 3, UNSIGNED64}, {"kind", KIND_COLUMN, SIGNED64},
    {"msg", 4, UNSIGNED32}, {"driver_id", 5, UNSIGNED64}, {"hdrvr", 6, UNSIGNED64}, {"lparam1", 7, SIGNED64},
    {"lparam2", 8, SIGNED64}, {"depth", 11, COUNT}, {"payload", NO_COLUMN, SIGNED64},
};
static const key_spec RETURN_KEYS[] = {
    {"seq", 0, SIGNED64}, {"ts_ns", 2, COUNT}, {"thread", 3, UNSIGNED64}, {"kind", KIND_COLUMN, SIGNED64},
    {"call_seq", 10, SIGNED64}, {"msg", 4, UNSIGNED32}, {"driver_id", 5, UNSIGNED64}, {"hdrvr", 6, UNSIGNED64},
    {"result", 9, SIGNED64}, {"duration_ns", 12, COUNT},
};
#define CALL_KEY_COUNT (int)(sizeof CALL_KEYS / sizeof *CALL_KEYS)
#define RETURN_KEY_COUNT (int)(sizeof RETURN_KEYS / sizeof *RETURN_KEYS)
#define MAX_KEYS CALL_KEY_COUNT

typedef struct {
    int negative;
    uint64_t magnitude;
} json_int;

enum value_type { INTEGER, STRING, NULL_VALUE };

typedef struct {
    const char *key; /* its text, without the quotes */
    size_t key_len;
    enum value_type type;
    json_int number;  /* INTEGER */
    const char *text; /* STRING: without the quotes */
    size_t text_len;
} member;

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A string without escapes or bytes past ASCII at p (its opening quote): the byte after its
 * closing quote, or NULL. */
static const char *plain_string(const char *p, const char *end, const char **text, size_t *len)
{
    if (p >= end || *p != '"')
        return NULL;
    *text = ++p;
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *len = (size_t)(p - *text);
            return p + 1;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80)
            return NULL;
    }
    return NULL;
}

/* A JSON integer at p (no fraction, no exponent, no leading zero) of at most 64 bits of
 * magnitude: the byte after it, or NULL. */
static const char *integer(const char *p, const char *end, json_int *out)
{
    out->negative = p < end && *p == '-';
    p += out->negative;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
        return NULL;
    uint64_t value = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > UINT64_MAX / 10 || (value == UINT64_MAX / 10 && digit > UINT64_MAX % 10))
            return NULL;
        value = value * 10 + digit;
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
        return NULL;
    out->magnitude = value;
    return p;
}

/* The value at p, of the kinds a plain line holds (an integer, a plain string, null): the
 * byte after it, or NULL for any other. */
static const char *value(const char *p, const char *end, member *m)
{
    if (p < end && *p == '"') {
        m->type = STRING;
        return plain_string(p, end, &m->text, &m->text_len);
    }
    if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        m->type = NULL_VALUE;
        return p + 4;
    }
    m->type = INTEGER;
    return integer(p, end, &m->number);
}

/* The members of the one JSON object the line holds, up to MAX_KEYS of them: their count,
 * or -1 when the line is not such an object. */
static int members(const char *p, const char *end, member *out)
{
    int count = 0;
    p = skip_space(p, end);
    if (p >= end || *p++ != '{')
        return -1;
    for (;;) {
        if (count == MAX_KEYS)
            return -1;
        member *m = &out[count++];
        p = plain_string(skip_space(p, end), end, &m->key, &m->key_len);
        if (!p)
            return -1;
        p = skip_space(p, end);
        if (p >= end || *p++ != ':')
            return -1;
        p = value(skip_space(p, end), end, m);
        if (!p)
            return -1;
        p = skip_space(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p >= end || *p++ != '}')
            return -1;
        return skip_space(p, end) == end ? count : -1;
    }
}

static int in_range(const json_int *v, enum range range)
{
    switch (range) {
    case SIGNED64:
        return v->negative ? v->magnitude <= (uint64_t)INT64_MAX + 1 : v->magnitude <= INT64_MAX;
    case UNSIGNED64:
        return !v->negative || v->magnitude == 0;
    case UNSIGNED32:
        return !v->negative ? v->magnitude <= UINT32_MAX : v->magnitude == 0;
    case COUNT:
        return !v->negative ? v->magnitude <= INT64_MAX : v->magnitude == 0;
    case ORDINAL:
        return !v->negative && v->magnitude >= 1 && v->magnitude <= INT64_MAX;
    }
    return 0;
}

static int is(const char *text, size_t len, const char *expected)
{
    return strlen(expected) == len && memcmp(text, expected, len) == 0;
}

/* Whether member m is the key spec's, with a value a plain line may hold there. */
static int fits(const member *m, const key_spec *spec, enum kind kind)
{
    if (spec->column == KIND_COLUMN)
        return m->type == STRING && is(m->text, m->text_len, kind == CALL ? "call" : "return");
    if (spec->column == NO_COLUMN) /* a call's payload */
        return m->type == NULL_VALUE;
    return m->type == INTEGER && in_range(&m->number, spec->range);
}

static PyObject *int_object(const json_int *v)
{
    if (!v->negative)
        return PyLong_FromUnsignedLongLong(v->magnitude);
    if (v->magnitude == (uint64_t)INT64_MAX + 1)
        return PyLong_FromLongLong(INT64_MIN);
    return PyLong_FromLongLong(-(long long)v->magnitude);
}

/* The row (ROW_COLUMNS order) of the integers by_column[c] for each column c in columns;
 * NULL: out of memory. */
static PyObject *row_of(const json_int *by_column, unsigned columns, enum kind kind)
{
    PyObject *row = PyTuple_New(ROW_FIELDS);
    if (!row)
        return NULL;
    for (int column = 0; column < ROW_FIELDS; column++) {
        PyObject *item = column == KIND_COLUMN ? PyLong_FromLong(kind)
                         : columns & (1u << column) ? int_object(&by_column[column]) : Py_NewRef(Py_None);
        if (!item) {
            Py_DECREF(row);
            return NULL;
        }
        PyTuple_SET_ITEM(row, column, item);
    }
    return row;
}

/* The byte after the parts at p, their integers put by column; NULL where the text differs. */
static const char *matched(const template *t, const char *p, const char *end, json_int *by_column,
                           unsigned *columns)
{
    for (int i = 0; i < t->count; i++) {
        const template_part *part = &t->parts[i];
        if ((size_t)(end - p) < part->len || memcmp(p, part->literal, part->len) != 0)
            return NULL;
        p += part->len;
        if (part->column == NO_COLUMN)
            break;
        p = integer(p, end, &by_column[part->column]);
        if (!p || !in_range(&by_column[part->column], part->range))
            return NULL;
        *columns |= 1u << part->column;
    }
    return p;
}

/* The row of a line written as drvtape writes it; NULL with no error set for any other. */
static PyObject *templated_row(const char *line, const char *end)
{
    json_int by_column[ROW_FIELDS];
    unsigned columns = 0;
    const char *p = matched(&HEAD, line, end, by_column, &columns), *tail;
    if (!p)
        return NULL;
    enum kind kind = CALL;
    tail = matched(&CALL_TAIL, p, end, by_column, &columns);
    if (!tail) {
        kind = RETURN;
        tail = matched(&RETURN_TAIL, p, end, by_column, &columns);
    }
    return tail && skip_space(tail, end) == end ? row_of(by_column, columns, kind) : NULL;
}

/* The row of a plain line, a new reference; NULL with no error set when the line is not one
 * this scan is sure of, NULL with an error set when Python ran out of memory. */
static PyObject *plain_row(const char *line, Py_ssize_t size)
{
    const char *end = line + size;
    PyObject *row = templated_row(line, end);
    if (row || PyErr_Occurred())
        return row;
    member found[MAX_KEYS];
    int count = members(line, end, found);
    const key_spec *keys = count == CALL_KEY_COUNT ? CALL_KEYS : count == RETURN_KEY_COUNT ? RETURN_KEYS : NULL;
    if (!keys)
        return NULL;
    enum kind kind = count == CALL_KEY_COUNT ? CALL : RETURN;
    json_int by_column[ROW_FIELDS];
    unsigned seen = 0, columns = 0;
    for (int i = 0; i < count; i++) {
        int k = i, tried = 0; /* drvtape's own order first */
        while (tried < count && !is(found[i].key, found[i].key_len, keys[k].name))
            k = (k + 1) % count, tried++;
        if (tried == count || seen & (1u << k) || !fits(&found[i], &keys[k], kind))
            return NULL;
        seen |= 1u << k;
        if (keys[k].column != NO_COLUMN && keys[k].column != KIND_COLUMN) {
            by_column[keys[k].column] = found[i].number;
            columns |= 1u << keys[k].column;
        }
    }
    return row_of(by_column, columns, kind);
}

static int line_text(PyObject *line, const char **text, Py_ssize_t *size)
{
    if (PyBytes_CheckExact(line)) {
        *text = PyBytes_AS_STRING(line);
        *size = PyBytes_GET_SIZE(line);
        return 1;
    }
    if (PyUnicode_CheckExact(line) && PyUnicode_IS_ASCII(line)) { /* its UTF-8 is its own buffer */
        *text = (const char *)PyUnicode_DATA(line);
        *size = PyUnicode_GET_LENGTH(line);
        return 1;
    }
    return 0;
}

PyObject *rows_of_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "rows_of_lines(lines: list, start: int, stop: int)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), stop = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *lines = args[0];
    if (stop > PyList_GET_SIZE(lines))
        stop = PyList_GET_SIZE(lines);
    PyObject *rows = PyList_New(0);
    for (Py_ssize_t i = start < 0 ? 0 : start; rows && i < stop; i++) {
        const char *text;
        Py_ssize_t size;
        if (!line_text(PyList_GET_ITEM(lines, i), &text, &size))
            break;
        PyObject *row = plain_row(text, size);
        if (!row) {
            if (PyErr_Occurred())
                Py_CLEAR(rows);
            break;
        }
        if (PyList_Append(rows, row) < 0)
            Py_CLEAR(rows);
        Py_DECREF(row);
    }
    return rows;
}
