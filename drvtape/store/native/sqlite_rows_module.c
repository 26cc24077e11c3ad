/* drvtape.store.sqlite_rows: the C half of drvtape/store/native_insert.py.
 *
 * Importing it registers drvtape_rows (rows_vtab.c) on every SQLite connection opened from
 * then on in this process (sqlite3_auto_extension), provided Python's sqlite3 links the same
 * libsqlite3 this module does; native_insert.py checks that before using it.
 * It also holds CallLog (call_log.c), the batched recorder's buffer and hot path.
 */
#include "call_log.h"
#include "pack_rows.h"
#include "packed_view.h"
#include "rows_vtab.h"
#include "tape_pairs.h"

static PyMethodDef methods[] = {
    {"pack_rows", (PyCFunction)(void (*)(void))pack_rows, METH_FASTCALL,
     "pack_rows(rows, unsigned_mask, not_null_mask) -> bytes, or None where the Python path must decide"},
    {"unpack_rows", unpack_rows, METH_O, "unpack_rows(packed) -> the rows as tuples"},
    {"tally_packed", tally_packed, METH_O, "tally_packed(packed) -> {thread as stored: [events, calls]}"},
    {"read_pairs", (PyCFunction)(void (*)(void))read_pairs, METH_FASTCALL,
     "read_pairs(data, pos, stop, seq, events, session, max_pairs) -> (pos, packed or None, last_ts, last_thread)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "drvtape.store.sqlite_rows",
    .m_doc = "ROW_COLUMNS rows packed for, and chained and yielded by, the drvtape_rows SQLite function.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit_sqlite_rows(void)
{
    int rc = sqlite3_auto_extension((void (*)(void))rows_vtab_register);
    if (rc != SQLITE_OK) {
        PyErr_Format(PyExc_ImportError, "sqlite3_auto_extension failed (%d)", rc);
        return NULL;
    }
    PyObject *created = PyModule_Create(&module);
    if (created && PyModule_AddType(created, &CallLogType) < 0)
        Py_CLEAR(created);
    return created;
}
