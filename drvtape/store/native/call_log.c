/* CallLog: the batched recorder's buffer, in C.
 *
 * drvtape/recorder/call_log.py holds the Python twin (LockedLog, the reference, used by the
 * durable modes and where this module is not built) and says what each method means. Here
 * the GIL is the lock: no method releases it between drawing a seq and appending its row,
 * so the buffer is in seq order without a lock of its own.
 *
 * Timestamps are CLOCK_MONOTONIC in ns: what time.perf_counter_ns() reads on Linux in
 * CPython 3.11 (Python/pytime.c, py_get_monotonic_clock), so t0 may come from Python.
 */
#include "call_log.h"  /* Python.h first: it sets the POSIX feature macros */

#include <stddef.h>
#include <time.h>

long long log_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
/* ---- rows ---- */

/* A new row of None, then its seq (the log's next) and ts (the clock reading *at, or now's
   where *at is 0) put in; *seq and *at are set to what was used. The tuple is made first:
   making it may run the collector, so Python code that could let another thread draw a seq
   and append its row before this one, or close the log; after the seq nothing here, nor in
   the callers until they append, runs Python code. NULL with no error set: the log closed
   meanwhile (no seq drawn). */
PyObject *log_new_row(CallLog *log, long long *seq, long long *at)
{
    PyObject *row = PyTuple_New(ROW_FIELDS);
    if (!row)
        return NULL;
    for (int i = 0; i < ROW_FIELDS; i++)
        PyTuple_SET_ITEM(row, i, Py_NewRef(Py_None));
    if (log->closed) {
        Py_DECREF(row);
        return NULL;
    }
    *seq = log->next_seq++;
    if (!*at)
        *at = log_now_ns();
    PyObject *seq_value = PyLong_FromLongLong(*seq), *ts = PyLong_FromLongLong(*at - log->t0);
    if (!seq_value || !ts) {
        Py_XDECREF(seq_value), Py_XDECREF(ts), Py_DECREF(row);
        return NULL;
    }
    Py_SETREF(PyTuple_GET_ITEM(row, SEQ), seq_value);
    Py_SETREF(PyTuple_GET_ITEM(row, TS), ts);
    return row;
}

/* Appends row (stolen) to the buffer. Rows of ints, strs and None cannot be in a cycle: the
   collector need not track them (it would, at its next pass, for each). */
int log_append(CallLog *log, PyObject *row)
{
    if (!row)
        return -1;
    int plain = 1;
    for (int i = 0; i < ROW_FIELDS && plain; i++) {
        PyObject *v = PyTuple_GET_ITEM(row, i);
        plain = v == Py_None || PyLong_CheckExact(v) || PyUnicode_CheckExact(v);
    }
    if (plain)
        PyObject_GC_UnTrack(row);
    int rc = PyList_Append(log->rows, row);
    Py_DECREF(row);
    return rc;
}

static int call_slow_path(PyObject *callable)
{
    PyObject *done = PyObject_CallNoArgs(callable);
    Py_XDECREF(done);
    return done ? 0 : -1;
}

/* After a row: tell the writer a batch is ready (once per take), or wait for room. */
int log_after_append(CallLog *log)
{
    Py_ssize_t pending = PyList_GET_SIZE(log->rows);
    if (pending < log->batch)
        return 0;
    if (pending >= log->max_pending)
        return call_slow_path(log->on_full);
    if (log->kicked)
        return 0;
    log->kicked = 1;
    return call_slow_path(log->on_batch);
}
/* ---- CallLog's methods ---- */

static PyObject *log_hook(CallLog *log, PyObject *proc)
{
    return new_hooked_proc(log, proc);
}

static PyObject *log_take(CallLog *log, PyObject *Py_UNUSED(ignored))
{
    PyObject *fresh = PyList_New(0);
    if (!fresh)
        return NULL;
    PyObject *taken = log->rows;
    log->rows = fresh;
    log->kicked = 0;
    return taken;
}

static PyObject *log_give_back(CallLog *log, PyObject *rows)
{
    if (PyList_SetSlice(log->rows, 0, 0, rows) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *log_keep_oldest(CallLog *log, PyObject *arg)
{
    Py_ssize_t keep = PyLong_AsSsize_t(arg), size = PyList_GET_SIZE(log->rows);
    if (keep < 0)
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_ValueError, "keep_oldest(%zd)", keep);
    if (size <= keep)
        Py_RETURN_NONE;
    PyObject *first = PyTuple_GetItem(PyList_GET_ITEM(log->rows, keep), SEQ);
    PyObject *dropped = first ? Py_BuildValue("On", first, size - keep) : NULL;
    if (dropped && PyList_SetSlice(log->rows, keep, size, NULL) < 0)
        Py_CLEAR(dropped);
    return dropped;
}

/* template's fields, with the next seq and now's ts in place, appended (*seq, *ts: those):
   0, or 1 where the log is closed (nothing appended), or -1 (an error set). */
static int stamp_into(CallLog *log, PyObject *template, long long *seq, long long *ts)
{
    if (!PyTuple_Check(template) || PyTuple_GET_SIZE(template) != ROW_FIELDS) {
        PyErr_Format(PyExc_TypeError, "a row of %d fields", ROW_FIELDS);
        return -1;
    }
    *ts = 0;
    PyObject *row = log_new_row(log, seq, ts);
    if (!row)
        return PyErr_Occurred() ? -1 : 1;
    for (int i = 0; i < ROW_FIELDS; i++)
        if (i != SEQ && i != TS)
            row_put(row, i, PyTuple_GET_ITEM(template, i));
    return log_append(log, row);
}

static PyObject *log_stamp(CallLog *log, PyObject *template)
{
    long long seq, ts;
    /* no log_after_append: the caller may hold the recorder's lock, which the writer takes */
    int stamped = stamp_into(log, template, &seq, &ts);
    if (stamped < 0)
        return NULL;
    if (stamped == 0)
        return PyLong_FromLongLong(seq);
    log->unrecorded++;
    Py_RETURN_NONE;
}

static PyObject *log_end(CallLog *log, PyObject *template)
{
    long long seq, ts;
    int stamped = template == Py_None || log->closed ? 1 : stamp_into(log, template, &seq, &ts);
    if (stamped < 0)
        return NULL;
    if (stamped == 1) {  /* no row (closed already: the recorder checks that under its lock) */
        seq = log->next_seq++;
        ts = log_now_ns();
    }
    log->closed = 1;
    return Py_BuildValue("LL", seq, ts - log->t0);
}

static PyObject *log_pending(CallLog *log, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(PyList_GET_SIZE(log->rows));
}

static PyObject *log_closed(CallLog *log, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(log->closed);
}

static PyObject *log_unrecorded(CallLog *log, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(log->unrecorded);
}

static PyMethodDef log_methods[] = {
    {"hook", (PyCFunction)log_hook, METH_O, NULL},
    {"take", (PyCFunction)log_take, METH_NOARGS, NULL},
    {"give_back", (PyCFunction)log_give_back, METH_O, NULL},
    {"keep_oldest", (PyCFunction)log_keep_oldest, METH_O, NULL},
    {"stamp", (PyCFunction)log_stamp, METH_O, NULL},
    {"end", (PyCFunction)log_end, METH_O, NULL},
    {"pending", (PyCFunction)log_pending, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef log_getset[] = {
    {"closed", (getter)log_closed, NULL, NULL, NULL},
    {"unrecorded", (getter)log_unrecorded, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* ---- CallLog's life ---- */

/* Every object a CallLog holds: the keyword arguments' objects first, in log_init's order. */
static const Py_ssize_t HELD[] = {
    offsetof(CallLog, call_kind), offsetof(CallLog, return_kind), offsetof(CallLog, on_batch),
    offsetof(CallLog, on_full), offsetof(CallLog, capture_call), offsetof(CallLog, capture_return),
    offsetof(CallLog, record_fault), offsetof(CallLog, as_lresult), offsetof(CallLog, out_of_range),
    offsetof(CallLog, rows), offsetof(CallLog, depths),
};
enum { GIVEN = 9, HELD_COUNT = sizeof HELD / sizeof HELD[0] };
#define HELD_AT(log, i) (*(PyObject **)((char *)(log) + HELD[i]))

static int log_init(CallLog *log, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"t0", "batch", "max_pending", "call_kind", "return_kind", "on_batch", "on_full",
                            "capture_call", "capture_return", "record_fault", "as_lresult", "out_of_range", NULL};
    PyObject *given[GIVEN];
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Lnn$OOOOOOOOU", names, &log->t0, &log->batch,
                                     &log->max_pending, &given[0], &given[1], &given[2], &given[3], &given[4],
                                     &given[5], &given[6], &given[7], &given[8]))
        return -1;
    for (int i = 0; i < GIVEN; i++)
        Py_XSETREF(HELD_AT(log, i), Py_NewRef(given[i]));
    Py_XSETREF(log->rows, PyList_New(0));
    Py_XSETREF(log->depths, PyDict_New());
    log->next_seq = 1;
    log->closed = log->kicked = 0;
    log->unrecorded = 0;
    return log->rows && log->depths ? 0 : -1;
}

static int log_traverse(CallLog *log, visitproc visit, void *arg)
{
    for (int i = 0; i < HELD_COUNT; i++)
        Py_VISIT(HELD_AT(log, i));
    return 0;
}

static int log_clear(CallLog *log)
{
    for (int i = 0; i < HELD_COUNT; i++)
        Py_CLEAR(HELD_AT(log, i));
    return 0;
}

static void log_dealloc(CallLog *log)
{
    PyObject_GC_UnTrack(log);
    log_clear(log);
    Py_TYPE(log)->tp_free((PyObject *)log);
}

PyTypeObject CallLogType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "drvtape.store.sqlite_rows.CallLog",
    .tp_doc = "The batched recorder's buffer and hooked DriverProcs (drvtape/recorder/call_log.py).",
    .tp_basicsize = sizeof(CallLog),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)log_init,
    .tp_traverse = (traverseproc)log_traverse,
    .tp_clear = (inquiry)log_clear,
    .tp_dealloc = (destructor)log_dealloc,
    .tp_methods = log_methods,
    .tp_getset = log_getset,
};
