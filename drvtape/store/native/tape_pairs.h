/* read_pairs: a tape's common records (a CALL with no payload, at once its RETURN) straight
 * into packed rows (packed_rows.h), for drvtape/recorder/tape_events.py's fast path. */
#ifndef DRVTAPE_TAPE_PAIRS_H
#define DRVTAPE_TAPE_PAIRS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *read_pairs(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
