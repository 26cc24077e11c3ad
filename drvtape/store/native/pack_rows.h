/* pack_rows(rows, unsigned_mask, not_null_mask): ROW_COLUMNS rows to packed bytes (packed_rows.h). */
#ifndef DRVTAPE_PACK_ROWS_H
#define DRVTAPE_PACK_ROWS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *pack_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
