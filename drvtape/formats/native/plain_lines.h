/* What the reader (read_rows.c) and the writer (write_lines.c) of plain JSONL lines share:
 * the ranges of the fields, and the template of a line as drvtape writes it.
 */
#ifndef DRVTAPE_PLAIN_LINES_H
#define DRVTAPE_PLAIN_LINES_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

/* struct's q, Q, I; q and Q both; ORDINAL (seq, call_seq as written): q and at least 1 */
enum range { SIGNED64, UNSIGNED64, UNSIGNED32, COUNT, ORDINAL };
enum kind { CALL = 0, RETURN = 1 }; /* drvtape.schema.rows.Kind */
/* ROW_COLUMNS: seq kind ts_ns thread msg driver_id hdrvr lparam1 lparam2 result call_seq depth
 * duration_ns payload entry_point */
enum { ROW_FIELDS = 15, KIND_COLUMN = 1, PAYLOAD_COLUMN = 13, ENTRY_POINT_COLUMN = 14, NO_COLUMN = -1 };

/* A line exactly as drvtape writes it (plain_rows.line_of_row: no spaces, its key order):
 * each literal, then the integer of its column (none after the last). */
typedef struct {
    const char *literal;
    size_t len;
    int column;
    enum range range;
} template_part;

typedef struct {
    const template_part *parts;
    int count;
} template;

extern const template HEAD, CALL_TAIL, RETURN_TAIL; /* a line is HEAD, then one of the tails */

/* drvtape.formats.plain_lines' functions (METH_FASTCALL) */
PyObject *rows_of_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *lines_of_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
