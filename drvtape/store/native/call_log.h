/* CallLog: the batched recorder's buffer (call_log.c) and its hooked DriverProc (hooked_proc.c),
 * the C twin of drvtape/recorder/call_log.py's LockedLog. */
#ifndef DRVTAPE_CALL_LOG_H
#define DRVTAPE_CALL_LOG_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum { ROW_FIELDS = 15, SEQ = 0, KIND = 1, TS = 2, THREAD = 3, MSG = 4, DRIVER_ID = 5, HDRVR = 6, LPARAM1 = 7,
       LPARAM2 = 8, RESULT = 9, CALL_SEQ = 10, DEPTH = 11, DURATION = 12, PAYLOAD = 13 };

typedef struct {
    PyObject_HEAD
    PyObject *rows;    /* list: rows the writer has not taken yet, in seq order */
    PyObject *depths;  /* dict: thread ident -> calls of that thread in progress */
    PyObject *call_kind, *return_kind;
    /* the recorder's slow paths: on_batch() (the buffer holds a batch: once per take),
       on_full() (it holds max_pending: may wait for room), capture_call(msg, lp1, lp2),
       capture_return(refs), record_fault(call_seq, ident, msg, driver_id, hdrvr, exc),
       as_lresult(result) */
    PyObject *on_batch, *on_full, *capture_call, *capture_return, *record_fault, *as_lresult;
    PyObject *out_of_range;  /* the ValueError's message */
    long long next_seq, t0, unrecorded;
    Py_ssize_t batch, max_pending;
    int closed, kicked;
} CallLog;

extern PyTypeObject CallLogType;
extern PyTypeObject HookedProcType;  /* made by new_hooked_proc */

long long log_now_ns(void);
PyObject *log_new_row(CallLog *log, long long *seq, long long *at);
int log_append(CallLog *log, PyObject *row);
int log_after_append(CallLog *log);
PyObject *new_hooked_proc(CallLog *log, PyObject *proc);

/* Sets a field of a row new_row made (its None, or a value put before, is released). */
static inline void row_put(PyObject *row, int field, PyObject *value)
{
    Py_SETREF(PyTuple_GET_ITEM(row, field), Py_NewRef(value));
}

#endif
