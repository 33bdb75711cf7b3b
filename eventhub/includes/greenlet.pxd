# greenlet's C API, from greenlet.h in greenlet's installed package directory
# (setup.py puts it on the include path).  The header keeps its function table
# in a static variable, so every module that cimports this must call
# greenlet_import() once at import time.  The small C wrappers below take and
# return plain PyObject* so Cython's reference counting stays exact.

from cpython.object cimport PyObject

cdef extern from *:
    """
    #include "greenlet.h"

    static inline int eh_greenlet_import(void) {
        PyGreenlet_Import();
        return _PyGreenlet_API == NULL ? -1 : 0;
    }
    static inline PyObject *eh_getcurrent(void) {
        return (PyObject *)PyGreenlet_GetCurrent();
    }
    static inline PyObject *eh_switch(PyObject *g, PyObject *args, PyObject *kwargs) {
        return PyGreenlet_Switch((PyGreenlet *)g, args, kwargs);
    }
    static inline int eh_set_parent(PyObject *g, PyObject *parent) {
        return PyGreenlet_SetParent((PyGreenlet *)g, (PyGreenlet *)parent);
    }
    /* 1 if g's parent is p, 0 if not (or no parent), -1 on error. */
    static inline int eh_parent_is(PyObject *g, PyObject *p) {
        PyGreenlet *parent = PyGreenlet_GetParent((PyGreenlet *)g);
        int same;
        if (parent == NULL)
            return PyErr_Occurred() ? -1 : 0;
        same = (PyObject *)parent == p;
        Py_DECREF(parent);
        return same;
    }
    /* greenlet.dead: started and no longer active. */
    static inline int eh_is_dead(PyObject *g) {
        int started = PyGreenlet_STARTED((PyGreenlet *)g);
        int active;
        if (started <= 0)
            return started;
        active = PyGreenlet_ACTIVE((PyGreenlet *)g);
        return active < 0 ? -1 : !active;
    }
    static inline int eh_is_started(PyObject *g) {
        return PyGreenlet_STARTED((PyGreenlet *)g);
    }
    static inline int eh_is_greenlet(PyObject *o) {
        return PyGreenlet_Check(o);
    }

    /* The PyMethodDef of greenlet.switch, to recognise bound `g.switch`. */
    static PyMethodDef *eh_switch_def = NULL;

    static inline int eh_init_switch_def(PyObject *bound_switch) {
        if (!PyCFunction_Check(bound_switch)) {
            PyErr_SetString(PyExc_TypeError, "greenlet.switch is not a builtin method");
            return -1;
        }
        eh_switch_def = ((PyCFunctionObject *)bound_switch)->m_ml;
        return 0;
    }
    /* The greenlet g if cb is g.switch (builtin, not overridden), else NULL. Borrowed. */
    static inline PyObject *eh_switch_target(PyObject *cb) {
        PyObject *self;
        if (eh_switch_def == NULL || !PyCFunction_Check(cb)
                || ((PyCFunctionObject *)cb)->m_ml != eh_switch_def)
            return NULL;
        self = PyCFunction_GET_SELF(cb);
        return (self != NULL && PyGreenlet_Check(self)) ? self : NULL;
    }
    """
    int greenlet_import "eh_greenlet_import"() except -1
    object getcurrent "eh_getcurrent"()
    object greenlet_switch "eh_switch"(object g, PyObject *args, PyObject *kwargs)
    int greenlet_set_parent "eh_set_parent"(object g, object parent) except -1
    int greenlet_parent_is "eh_parent_is"(object g, object parent) except -1
    int greenlet_is_dead "eh_is_dead"(object g) except -1
    int greenlet_is_started "eh_is_started"(object g) except -1
    bint is_greenlet "eh_is_greenlet"(object o)
    int init_switch_def "eh_init_switch_def"(object bound_switch) except -1
    PyObject *switch_target "eh_switch_target"(object cb)
