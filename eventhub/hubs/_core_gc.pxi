# Included by _core.pyx, last: it patches the BaseHub type built above.
# Owns the cyclic-GC hooks that let the collector see through the hub's C
# timer queues.

# ---------------------------------------------------------------------------
# Garbage collection through the C timer queues
# ---------------------------------------------------------------------------
# Cython's generated tp_traverse/tp_clear only see the hub's object fields.
# The timer queues are C arrays of owned references, and Timers are not
# tracked by the collector (no_gc), so a pending timer whose callback leads
# back to its hub (hub.abort, a method of an object owning the hub, ...)
# formed a cycle the collector could not see: the hub and its poller fd
# were never freed.  These wrappers extend the generated slots to the
# queues: the hub reports, as its own, the references of each timer only it
# holds (refcount 1: the timer lives exactly as long as its queue entry); a
# timer held elsewhere too is reported as itself, which is exact for
# tracked (foreign) timers and merely conservative for ours.

# (The C declarations used here, from includes/cpython_api.pxd, are
# cimported at the top of _core.pyx with the module's others.)

cdef gc_traverseproc _generated_traverse
cdef gc_inquiry _generated_clear


cdef int _visit_timer(PyObject *timer, gc_visitproc visit, void *arg) noexcept:
    cdef int r
    cdef Timer t
    if Py_REFCNT(timer) != 1 or not PyObject_TypeCheck(timer, <PyTypeObject *>Timer):
        return visit(timer, arg)
    t = <Timer><object>timer
    r = visit(<PyObject *>t._cb, arg)
    if r == 0:
        r = visit(<PyObject *>t._args, arg)
    if r == 0:
        r = visit(<PyObject *>t._kw, arg)
    if r == 0 and PyObject_TypeCheck(timer, <PyTypeObject *>LocalTimer):
        r = visit(<PyObject *>(<LocalTimer>t).greenlet, arg)
    return r


cdef int _hub_traverse(PyObject *o, gc_visitproc visit, void *arg) noexcept:
    cdef BaseHub hub = <BaseHub><object>o
    cdef Py_ssize_t i
    cdef int r = _generated_traverse(o, visit, arg)
    if r:
        return r
    for i in range(hub._timers.heap_len):
        r = _visit_timer(hub._timers.heap[i].timer, visit, arg)
        if r:
            return r
    for i in range(hub._timers.next_len):
        r = _visit_timer(hub._timers.next[i].timer, visit, arg)
        if r:
            return r
    return 0


cdef int _hub_clear(PyObject *o) noexcept:
    cdef BaseHub hub = <BaseHub><object>o
    try:
        hub._clear_timers()
    except BaseException:
        PyErr_WriteUnraisable(o)
    return _generated_clear(o)


cdef GCSlots *_hub_slots = <GCSlots *><PyObject *>BaseHub
_generated_traverse = _hub_slots.tp_traverse
_generated_clear = _hub_slots.tp_clear
# Backends' types copy or call these slots when they are created, after this.
_hub_slots.tp_traverse = _hub_traverse
_hub_slots.tp_clear = _hub_clear
