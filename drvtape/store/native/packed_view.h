/* Packed rows (packed_rows.h) seen from Python: as tuples, and counted per thread. */
#ifndef DRVTAPE_PACKED_VIEW_H
#define DRVTAPE_PACKED_VIEW_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* unpack_rows(packed) -> [tuple, ...]: the rows pack_rows was given (ints, strs, None) */
PyObject *unpack_rows(PyObject *module, PyObject *packed);

/* tally_packed(packed) -> {thread as stored: [events, calls]}: session_summary.tally's figures */
PyObject *tally_packed(PyObject *module, PyObject *packed);

#endif
