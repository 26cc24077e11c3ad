/* drvtape.formats.plain_lines: drvtape's plain JSONL lines read into rows (read_rows.c) and
 * written from them (write_lines.c) in C, for import and export (drvtape.formats.plain_rows).
 */
#include "plain_lines.h"

static PyMethodDef methods[] = {
    {"rows_of_lines", (PyCFunction)(void (*)(void))rows_of_lines, METH_FASTCALL,
     "rows_of_lines(lines, start, stop) -> the rows of lines[start:stop] up to the first that is not a plain line"},
    {"lines_of_rows", (PyCFunction)(void (*)(void))lines_of_rows, METH_FASTCALL,
     "lines_of_rows(rows, start, stop) -> the lines of rows[start:stop] up to the first that is not a plain row"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "drvtape.formats.plain_lines",
    .m_doc = "drvtape's plain JSONL lines read into rows and written from them in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit_plain_lines(void)
{
    return PyModule_Create(&module);
}
