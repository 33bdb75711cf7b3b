# CPython's public C API that Cython's own cpython/*.pxd do not declare, or
# declare only with `object` where a module needs the raw PyObject * (to
# manage a reference by hand).  Anything past the public API lives in
# pycompat.pxd instead.

from cpython.object cimport PyObject, PyTypeObject

cdef extern from "Python.h":
    # Objects and the collector.
    Py_ssize_t Py_REFCNT(PyObject *o)
    bint PyObject_TypeCheck(PyObject *o, PyTypeObject *t)
    void PyObject_GC_UnTrack(void *op)  # safe on an untracked object
    void PyErr_WriteUnraisable(PyObject *o)

    # A type's GC slots, for wrapping the ones Cython generates (the
    # compiled core's hub reports the references its C timer queues hold).
    ctypedef int (*gc_visitproc "visitproc")(PyObject *, void *)
    ctypedef int (*gc_traverseproc "traverseproc")(PyObject *, gc_visitproc, void *)
    ctypedef int (*gc_inquiry "inquiry")(PyObject *)
    ctypedef struct GCSlots "PyTypeObject":
        gc_traverseproc tp_traverse
        gc_inquiry tp_clear

    # Bytes made and filled in C (a new reference, or NULL with an exception set).
    PyObject *PyBytes_FromStringAndSize(const char *v, Py_ssize_t n) except NULL
    char *PyBytes_AS_STRING(PyObject *o)

    # The calling thread's state and its id.
    ctypedef struct PyThreadState:
        pass
    PyThreadState *PyThreadState_Get()
    unsigned long long PyThreadState_GetID(PyThreadState *tstate)

    # The allocator of pymalloc's arenas (and of the frame-stack chunks).
    ctypedef struct PyObjectArenaAllocator:
        void *ctx
        void *(*alloc)(void *ctx, size_t size) noexcept nogil
        void (*free)(void *ctx, void *ptr, size_t size) noexcept nogil
    void PyObject_GetArenaAllocator(PyObjectArenaAllocator *allocator)
    void PyObject_SetArenaAllocator(PyObjectArenaAllocator *allocator)
