/* Packed rows back to Python objects (packed_view.h). Only drvtape's own packed bytes come
 * here, but they are read bounds-checked all the same: damage is a ValueError. */
#include <string.h>

#include "packed_rows.h"
#include "packed_view.h"

#define KIND 1   /* drvtape.schema.rows.ROW_COLUMNS: kind, thread */
#define THREAD 3
#define KIND_CALL 0

static PyObject *not_whole(void)
{
    PyErr_SetString(PyExc_ValueError, "the packed rows are not whole rows");
    return NULL;
}

static PyObject *value_of(const packed_field *field)
{
    switch (field->tag) {
    case TAG_INT:
        return PyLong_FromLongLong(field->num.i);
    case TAG_UINT:
        return PyLong_FromUnsignedLongLong(field->num.u);
    case TAG_TEXT:
        return PyUnicode_DecodeUTF8(field->text, field->text_len, "strict");
    default:
        return Py_NewRef(Py_None);
    }
}

static PyObject *tuple_of(const packed_row *row)
{
    PyObject *tuple = PyTuple_New(row->count);
    for (int i = 0; tuple && i < row->count; i++) {
        PyObject *value = value_of(&row->fields[i]);
        if (!value)
            Py_CLEAR(tuple);
        else
            PyTuple_SET_ITEM(tuple, i, value);
    }
    return tuple;
}

PyObject *unpack_rows(PyObject *module, PyObject *packed)
{
    (void)module;
    char *bytes;
    Py_ssize_t size;
    if (PyBytes_AsStringAndSize(packed, &bytes, &size) < 0)
        return NULL;
    PyObject *rows = PyList_New(0);
    size_t at = 0;
    packed_row row;
    while (rows && at < (size_t)size) {
        if (!packed_read_row((const unsigned char *)bytes, (size_t)size, &at, &row)) {
            Py_DECREF(rows);
            return not_whole();
        }
        PyObject *tuple = tuple_of(&row);
        if (!tuple || PyList_Append(rows, tuple) < 0)
            Py_CLEAR(rows);
        Py_XDECREF(tuple);
    }
    return rows;
}

/* Consecutive rows of one thread are counted in C; a thread's entry is looked up in the
 * dict only where the thread changes. */
static int add_counts(PyObject *counts, int64_t thread, long long events, long long calls)
{
    PyObject *key = PyLong_FromLongLong(thread);
    if (!key)
        return 0;
    PyObject *counted = PyDict_GetItemWithError(counts, key);
    int ok = 0;
    if (counted) {
        PyObject *e = PyLong_FromLongLong(PyLong_AsLongLong(PyList_GET_ITEM(counted, 0)) + events);
        PyObject *c = PyLong_FromLongLong(PyLong_AsLongLong(PyList_GET_ITEM(counted, 1)) + calls);
        if (e && c) {
            PyList_SetItem(counted, 0, e);
            PyList_SetItem(counted, 1, c);
            ok = 1;
        } else {
            Py_XDECREF(e);
            Py_XDECREF(c);
        }
    } else if (!PyErr_Occurred()) {
        PyObject *fresh = Py_BuildValue("[LL]", events, calls);
        ok = fresh && PyDict_SetItem(counts, key, fresh) == 0;
        Py_XDECREF(fresh);
    }
    Py_DECREF(key);
    return ok;
}

PyObject *tally_packed(PyObject *module, PyObject *packed)
{
    (void)module;
    char *bytes;
    Py_ssize_t size;
    if (PyBytes_AsStringAndSize(packed, &bytes, &size) < 0)
        return NULL;
    PyObject *counts = PyDict_New();
    size_t at = 0;
    packed_row row;
    int64_t thread = 0;
    long long events = 0, calls = 0;
    while (counts && at < (size_t)size) {
        if (!packed_read_row((const unsigned char *)bytes, (size_t)size, &at, &row)
            || row.fields[THREAD].tag == TAG_NULL || row.fields[THREAD].tag == TAG_TEXT) {
            Py_DECREF(counts);
            return not_whole();
        }
        int64_t this_thread = row.fields[THREAD].num.i; /* a UINT's bits: its stored, signed value */
        if (events && this_thread != thread) {
            if (!add_counts(counts, thread, events, calls))
                Py_CLEAR(counts);
            events = calls = 0;
        }
        thread = this_thread;
        events++;
        calls += row.fields[KIND].tag == TAG_INT && row.fields[KIND].num.i == KIND_CALL;
    }
    if (counts && events && !add_counts(counts, thread, events, calls))
        Py_CLEAR(counts);
    return counts;
}
