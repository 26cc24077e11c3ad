/* Plain call and return rows to JSONL lines (drvtape.formats.plain_lines).
 *
 * lines_of_rows(rows, start, stop) writes rows[start:stop] while each is a row that
 * drvtape.formats.plain_rows.line_of_row writes directly, and returns their lines (a list of
 * str, without newlines, exactly line_of_row's); it stops at the first row it does not write,
 * which the caller writes its own way (the Python path, the reference). Such a row is a tuple
 * of 15 fields, payload and entry_point None, kind 0 (a call) or 1 (a return), and each field
 * its line holds an int (not a bool) within its range, seq and call_seq at least 1.
 */
#include <stdint.h>
#include <string.h>

#include "plain_lines.h"

enum { LINE_MAX = 512 }; /* the literals and ten integers of at most 20 digits and a sign */

/* value's decimal at out, when it is an int within range: the byte after it, else NULL. */
static char *decimal(char *out, PyObject *value, enum range range)
{
    if (!PyLong_CheckExact(value))
        return NULL;
    int overflow;
    long long signed_value = PyLong_AsLongLongAndOverflow(value, &overflow);
    uint64_t magnitude;
    int negative = 0;
    if (!overflow) {
        if (range != SIGNED64 && signed_value < (range == ORDINAL ? 1 : 0))
            return NULL;
        if (range == UNSIGNED32 && signed_value > (long long)UINT32_MAX)
            return NULL;
        negative = signed_value < 0;
        magnitude = negative ? (uint64_t)(-(signed_value + 1)) + 1 : (uint64_t)signed_value;
    } else if (overflow > 0 && range == UNSIGNED64) {
        magnitude = PyLong_AsUnsignedLongLong(value);
        if (PyErr_Occurred()) { /* past 64 bits */
            PyErr_Clear();
            return NULL;
        }
    } else {
        return NULL;
    }
    char digits[20];
    int count = 0;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (negative)
        *out++ = '-';
    while (count)
        *out++ = digits[--count];
    return out;
}

/* The template's literals and row's integers at out: the byte after them, or NULL. */
static char *written(const template *t, PyObject *row, char *out)
{
    for (int i = 0; i < t->count; i++) {
        const template_part *part = &t->parts[i];
        memcpy(out, part->literal, part->len);
        out += part->len;
        if (part->column == NO_COLUMN)
            break;
        out = decimal(out, PyTuple_GET_ITEM(row, part->column), part->range);
        if (!out)
            return NULL;
    }
    return out;
}

/* The line of a plain row, a new str; NULL with no error set for any other row, NULL with
 * an error set when Python ran out of memory. */
static PyObject *line_of(PyObject *row)
{
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != ROW_FIELDS ||
        PyTuple_GET_ITEM(row, PAYLOAD_COLUMN) != Py_None || PyTuple_GET_ITEM(row, ENTRY_POINT_COLUMN) != Py_None)
        return NULL;
    PyObject *kind = PyTuple_GET_ITEM(row, KIND_COLUMN);
    if (!PyLong_CheckExact(kind))
        return NULL;
    long kind_value = PyLong_AsLong(kind);
    if (kind_value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    if (kind_value != CALL && kind_value != RETURN)
        return NULL;
    char line[LINE_MAX];
    char *end = written(&HEAD, row, line);
    if (end)
        end = written(kind_value == CALL ? &CALL_TAIL : &RETURN_TAIL, row, end);
    if (!end)
        return NULL;
    PyObject *text = PyUnicode_New(end - line, 127);
    if (text)
        memcpy(PyUnicode_1BYTE_DATA(text), line, (size_t)(end - line));
    return text;
}

PyObject *lines_of_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "lines_of_rows(rows: list, start: int, stop: int)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), stop = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *rows = args[0];
    if (stop > PyList_GET_SIZE(rows))
        stop = PyList_GET_SIZE(rows);
    PyObject *lines = PyList_New(0);
    for (Py_ssize_t i = start < 0 ? 0 : start; lines && i < stop; i++) {
        PyObject *line = line_of(PyList_GET_ITEM(rows, i));
        if (!line) {
            if (PyErr_Occurred())
                Py_CLEAR(lines);
            break;
        }
        if (PyList_Append(lines, line) < 0)
            Py_CLEAR(lines);
        Py_DECREF(line);
    }
    return lines;
}
