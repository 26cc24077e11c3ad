/* drvtape.runtime.gate: the hand-over between replay lanes (drvtape/runtime/handover.py).
 *
 * A Gate is closed until opened once; acquire() waits for it to open and closes it again.
 * pass_to(other) opens `other` and waits on this gate with the GIL let go *before* the open:
 * the woken thread then finds the GIL free instead of waking, finding it held and sleeping
 * again until the waker blocks (bench/sched_bench.py measures both). A POSIX semaphore per
 * gate, as CPython's own Lock is on Linux; opening a gate that is already open raises, as
 * releasing an unlocked Lock does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <semaphore.h>

typedef struct {
    PyObject_HEAD
    sem_t sem;
    int ready;
} Gate;

static PyTypeObject GateType;

static int gate_init(Gate *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Gate() takes no arguments");
        return -1;
    }
    if (self->ready)
        sem_destroy(&self->sem);
    if (sem_init(&self->sem, 0, 0) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    self->ready = 1;
    return 0;
}

static void gate_dealloc(Gate *self)
{
    if (self->ready)
        sem_destroy(&self->sem);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int already_open(Gate *gate)
{
    int value = 0;
    sem_getvalue(&gate->sem, &value);
    if (value > 0) {
        PyErr_SetString(PyExc_RuntimeError, "the gate is already open");
        return 1;
    }
    return 0;
}

static void wait_open(Gate *gate)  /* GIL let go */
{
    while (sem_wait(&gate->sem) != 0 && errno == EINTR) {
    }
}

static PyObject *gate_release(Gate *self, PyObject *unused)
{
    (void)unused;
    if (already_open(self))
        return NULL;
    sem_post(&self->sem);
    Py_RETURN_NONE;
}

static PyObject *gate_acquire(Gate *self, PyObject *unused)
{
    (void)unused;
    if (sem_trywait(&self->sem) == 0)
        Py_RETURN_NONE;
    Py_BEGIN_ALLOW_THREADS
    wait_open(self);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *gate_pass_to(Gate *self, PyObject *other)
{
    if (!PyObject_TypeCheck(other, &GateType)) {
        PyErr_SetString(PyExc_TypeError, "pass_to() takes a Gate");
        return NULL;
    }
    Gate *to = (Gate *)other;
    if (already_open(to))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    sem_post(&to->sem);
    wait_open(self);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef gate_methods[] = {
    {"acquire", (PyCFunction)gate_acquire, METH_NOARGS, "Wait until the gate is open, and close it."},
    {"release", (PyCFunction)gate_release, METH_NOARGS, "Open the gate (RuntimeError when it is open)."},
    {"pass_to", (PyCFunction)gate_pass_to, METH_O,
     "Open the other gate, then wait on this one, with the GIL let go before the other opens."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject GateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "drvtape.runtime.gate.Gate",
    .tp_doc = "A closed gate one thread waits at until another opens it.",
    .tp_basicsize = sizeof(Gate),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)gate_init,
    .tp_dealloc = (destructor)gate_dealloc,
    .tp_methods = gate_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "drvtape.runtime.gate",
    .m_doc = "Gates the replay lanes hand over through.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit_gate(void)
{
    if (PyType_Ready(&GateType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&GateType);
    if (PyModule_AddObject(m, "Gate", (PyObject *)&GateType) < 0) {
        Py_DECREF(&GateType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
