/* The hooked DriverProc of a CallLog (call_log.c): the batched recorder's hot path.
 *
 * Per call: the arguments checked as struct.pack("<QQIqq") would (ValueError before the
 * driver runs), the call row appended, the driver called, the return row appended; the
 * recorder's Python does only what this cannot (payloads, memory blocks, faults, odd
 * results). drvtape/recorder/call_log.py's LockedLog.hook is the reference it matches.
 */
#include "call_log.h"

#include <stddef.h>

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    CallLog *log;
    PyObject *proc;
} HookedProc;

/* ---- argument checks: what struct.pack("<QQIqq", ...) accepts (an int, or __index__) ---- */

static PyObject *as_index(PyObject *value)
{
    if (PyLong_CheckExact(value))
        return Py_NewRef(value);
    return PyNumber_Index(value);
}

static int unsigned_within(PyObject *value, unsigned long long max)
{
    PyObject *index = as_index(value);
    if (!index)
        return 0;
    unsigned long long got = PyLong_AsUnsignedLongLong(index);
    Py_DECREF(index);
    return !(got == (unsigned long long)-1 && PyErr_Occurred()) && got <= max;
}

static int signed_64(PyObject *value)
{
    PyObject *index = as_index(value);
    if (!index)
        return 0;
    int overflow;
    long long got = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    return !overflow && !(got == -1 && PyErr_Occurred());
}

static int arguments_in_range(PyObject *driver_id, PyObject *hdrvr, PyObject *msg, PyObject *raw1, PyObject *raw2)
{
    int ok = unsigned_within(driver_id, ULLONG_MAX) && unsigned_within(hdrvr, ULLONG_MAX)
             && unsigned_within(msg, 0xFFFFFFFFULL) && signed_64(raw1) && signed_64(raw2);
    if (!ok)
        PyErr_Clear();
    return ok;
}
static int leave(CallLog *log, PyObject *ident, PyObject *depth)
{
    if (PyLong_AsLong(depth))
        return PyDict_SetItem(log->depths, ident, depth);
    if (PyDict_DelItem(log->depths, ident) < 0 && PyErr_ExceptionMatches(PyExc_KeyError))
        PyErr_Clear();
    return PyErr_Occurred() ? -1 : 0;
}

/* leave() while the driver's error is set: that error stays (or leave's own replaces it). */
static void left_after_raise(CallLog *log, PyObject *ident, PyObject *depth)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (leave(log, ident, depth) < 0) {
        Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        return;
    }
    PyErr_Restore(type, value, tb);
}

/* The driver's result as an LRESULT (as_lresult for anything but an int within 64 bits). */
static PyObject *lresult(CallLog *log, PyObject *result)
{
    if (!result)
        return NULL;
    if (PyLong_CheckExact(result)) {
        int overflow;
        long long value = PyLong_AsLongLongAndOverflow(result, &overflow);
        if (!overflow && !(value == -1 && PyErr_Occurred()))
            return result;
        PyErr_Clear();
    }
    Py_SETREF(result, PyObject_CallOneArg(log->as_lresult, result));
    return result;
}

/* The driver raised (the error is set): the fault is recorded (an Exception only), then re-raised. */
static void record_fault(CallLog *log, PyObject *const *args, PyObject *ident, long long call_seq)
{
    PyObject *type, *value, *tb;
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb)
        PyException_SetTraceback(value, tb);
    PyObject *seq = PyLong_FromLongLong(call_seq);
    PyObject *done = seq ? PyObject_CallFunctionObjArgs(log->record_fault, seq, ident, args[2], args[0], args[1],
                                                        value, NULL) : NULL;
    Py_XDECREF(seq);
    if (!done) {  /* recording failed: that error is raised instead */
        Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        return;
    }
    Py_DECREF(done);
    PyErr_Restore(type, value, tb);
}

/* The call row (*seq, *start: its seq and clock reading); depth: the calls of this thread in
   progress before it. 0, or 1 where the log closed meanwhile (nothing appended), or -1. */
static int append_call(CallLog *log, PyObject *const *args, PyObject *ident, PyObject *depth,
                       PyObject *const *raw, long long *seq, long long *start)
{
    *start = 0;
    PyObject *row = log_new_row(log, seq, start);
    if (!row)
        return PyErr_Occurred() ? -1 : 1;
    row_put(row, KIND, log->call_kind), row_put(row, THREAD, ident), row_put(row, MSG, args[2]);
    row_put(row, DRIVER_ID, args[0]), row_put(row, HDRVR, args[1]), row_put(row, LPARAM1, raw[0]);
    row_put(row, LPARAM2, raw[1]), row_put(row, DEPTH, depth), row_put(row, PAYLOAD, raw[2]);
    return log_append(log, row);
}

/* The return row, unless the log has closed since the call (then counted as unrecorded). */
static int append_return(CallLog *log, PyObject *const *args, PyObject *ident, PyObject *result,
                         PyObject *written, long long call_seq, long long start, long long end)
{
    long long seq;
    PyObject *row = log_new_row(log, &seq, &end);
    if (!row) {
        if (PyErr_Occurred())
            return -1;
        log->unrecorded++;
        return 0;
    }
    PyObject *call = PyLong_FromLongLong(call_seq), *duration = PyLong_FromLongLong(end - start);
    if (call && duration) {
        row_put(row, KIND, log->return_kind), row_put(row, THREAD, ident), row_put(row, MSG, args[2]);
        row_put(row, DRIVER_ID, args[0]), row_put(row, HDRVR, args[1]), row_put(row, RESULT, result);
        row_put(row, CALL_SEQ, call), row_put(row, DURATION, duration), row_put(row, PAYLOAD, written);
    }
    Py_XDECREF(call), Py_XDECREF(duration);
    if (!call || !duration) {
        Py_DECREF(row);
        return -1;
    }
    return log_append(log, row) < 0 ? -1 : log_after_append(log);
}

static PyObject *run_unrecorded(HookedProc *self, PyObject *const *args)
{
    self->log->unrecorded += 2;  /* its call and its return */
    return lresult(self->log, PyObject_Vectorcall(self->proc, args, 5, NULL));
}

/* Runs the driver between its call row (appended) and its return row; the result, or NULL. */
static PyObject *run_recorded(HookedProc *self, PyObject *const *args, PyObject *ident, PyObject *const *raw,
                              PyObject *refs)
{
    CallLog *log = self->log;
    PyObject *depth = PyDict_GetItemWithError(log->depths, ident);  /* borrowed */
    if (!depth && PyErr_Occurred())
        return NULL;
    long below = depth ? PyLong_AsLong(depth) : 0;
    depth = depth ? Py_NewRef(depth) : PyLong_FromLong(0);
    PyObject *deeper = PyLong_FromLong(below + 1);
    long long seq, start;
    int appended = depth && deeper ? append_call(log, args, ident, depth, raw, &seq, &start) : -1;
    if (appended != 0 || PyDict_SetItem(log->depths, ident, deeper) < 0) {
        Py_XDECREF(depth), Py_XDECREF(deeper);
        return appended == 1 ? run_unrecorded(self, args) : NULL;
    }
    Py_DECREF(deeper);
    PyObject *result = lresult(log, PyObject_Vectorcall(self->proc, args, 5, NULL));
    long long end = log_now_ns();
    if (!result) {
        left_after_raise(log, ident, depth);
        Py_DECREF(depth);
        record_fault(log, args, ident, seq);
        return NULL;
    }
    int left = leave(log, ident, depth);
    Py_DECREF(depth);
    PyObject *written = refs == Py_None ? Py_NewRef(Py_None) : PyObject_CallOneArg(log->capture_return, refs);
    if (left < 0 || !written) {
        Py_XDECREF(written), Py_DECREF(result);
        return NULL;
    }
    int stored = append_return(log, args, ident, result, written, seq, start, end);
    Py_DECREF(written);
    if (stored < 0)
        Py_CLEAR(result);
    return result;
}

static PyObject *hooked_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    HookedProc *self = (HookedProc *)callable;
    CallLog *log = self->log;
    if (PyVectorcall_NARGS(nargsf) != 5 || (kwnames && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "a hooked DriverProc takes 5 positional arguments: "
                                         "dwDriverId, hdrvr, msg, lParam1, lParam2");
        return NULL;
    }
    PyObject *captured = NULL, *raw[3] = {args[3], args[4], Py_None}, *refs = Py_None;
    if (!PyLong_CheckExact(args[3]) || !PyLong_CheckExact(args[4])) {
        captured = PyObject_CallFunctionObjArgs(log->capture_call, args[2], args[3], args[4], NULL);
        if (!captured)
            return NULL;
        if (!PyTuple_CheckExact(captured) || PyTuple_GET_SIZE(captured) != 4) {
            Py_DECREF(captured);
            PyErr_SetString(PyExc_TypeError, "capture_call must return (lparam1, lparam2, payload, refs)");
            return NULL;
        }
        raw[0] = PyTuple_GET_ITEM(captured, 0), raw[1] = PyTuple_GET_ITEM(captured, 1);
        raw[2] = PyTuple_GET_ITEM(captured, 2), refs = PyTuple_GET_ITEM(captured, 3);
    }
    PyObject *result = NULL;
    if (!arguments_in_range(args[0], args[1], args[2], raw[0], raw[1]))
        PyErr_SetObject(PyExc_ValueError, log->out_of_range);
    else if (log->closed)
        result = run_unrecorded(self, args);
    else {
        PyObject *ident = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
        result = ident ? run_recorded(self, args, ident, raw, refs) : NULL;
        Py_XDECREF(ident);
    }
    Py_XDECREF(captured);
    return result;
}

static int hooked_traverse(HookedProc *self, visitproc visit, void *arg)
{
    Py_VISIT(self->log);
    Py_VISIT(self->proc);
    return 0;
}

static int hooked_clear(HookedProc *self)
{
    Py_CLEAR(self->log);
    Py_CLEAR(self->proc);
    return 0;
}

static void hooked_dealloc(HookedProc *self)
{
    PyObject_GC_UnTrack(self);
    hooked_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyTypeObject HookedProcType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "drvtape.store.sqlite_rows.HookedProc",
    .tp_doc = "A DriverProc that records each call in its CallLog, then calls the driver (CallLog.hook).",
    .tp_basicsize = sizeof(HookedProc),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(HookedProc, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_traverse = (traverseproc)hooked_traverse,
    .tp_clear = (inquiry)hooked_clear,
    .tp_dealloc = (destructor)hooked_dealloc,
};

PyObject *new_hooked_proc(CallLog *log, PyObject *proc)
{
    if (PyType_Ready(&HookedProcType) < 0)
        return NULL;
    HookedProc *hooked = PyObject_GC_New(HookedProc, &HookedProcType);
    if (!hooked)
        return NULL;
    hooked->vectorcall = hooked_call;
    hooked->log = (CallLog *)Py_NewRef(log);
    hooked->proc = Py_NewRef(proc);
    PyObject_GC_Track(hooked);
    return (PyObject *)hooked;
}
