# cython: freethreading_compatible=False
"""A small cache of CPython's frame-stack chunks, so starting a greenlet costs no mmap.

CPython 3.11+ keeps Python frames on a per-thread data stack made of chunks
of 16 KiB, and greenlet gives every greenlet a data stack of its own.  So
the first Python call in a new greenlet allocates a chunk, and its end
frees it, through the interpreter's *arena allocator*: an ``mmap`` and a
``munmap`` plus page faults for each greenthread spawned.  That is about
nine tenths of the cost of starting a greenlet (100k/s against 1.1M/s here).

``install()`` wraps the arena allocator with one that keeps up to
``KEEP`` freed chunks of exactly that size and hands them out again;
every other request goes to the allocator it wraps.  At most
``KEEP * CHUNK_SIZE`` bytes (1 MiB) stay mapped.  The compiled hub installs
it when the first compiled hub is created: process-wide, once, never removed.

The arena allocator is only called with the GIL held, which is what
makes the unlocked cache safe (``freethreading_compatible=False``).
"""

from libc.stdint cimport uint64_t

cdef extern from "Python.h":
    ctypedef struct PyObjectArenaAllocator:
        void *ctx
        void *(*alloc)(void *ctx, size_t size) noexcept
        void (*free)(void *ctx, void *ptr, size_t size) noexcept
    void PyObject_GetArenaAllocator(PyObjectArenaAllocator *allocator)
    void PyObject_SetArenaAllocator(PyObjectArenaAllocator *allocator)

cdef enum:
    _CHUNK_SIZE = 16 * 1024  # CPython's _PY_DATA_STACK_CHUNK_SIZE (3.11, 3.12)
    _KEEP = 64

#: The chunk size cached and how many chunks are kept at most.
CHUNK_SIZE = _CHUNK_SIZE
KEEP = _KEEP

cdef PyObjectArenaAllocator _wrapped   # the allocator in place before install()
cdef bint _installed = False
cdef void *_free_chunks[_KEEP]
cdef int _count = 0
cdef uint64_t _reused = 0


cdef void *_alloc(void *ctx, size_t size) noexcept:
    global _count, _reused
    if size == _CHUNK_SIZE and _count > 0:
        _count -= 1
        _reused += 1
        return _free_chunks[_count]
    return _wrapped.alloc(_wrapped.ctx, size)


cdef void _free(void *ctx, void *ptr, size_t size) noexcept:
    global _count
    # Every block here came from _wrapped (directly or through _alloc), so
    # keeping it for a later _alloc or giving it back to _wrapped are both right.
    if size == _CHUNK_SIZE and ptr != NULL and _count < _KEEP:
        _free_chunks[_count] = ptr
        _count += 1
        return
    _wrapped.free(_wrapped.ctx, ptr, size)


cdef int install() except -1:
    """Put the cache in front of the arena allocator (once per process)."""
    global _installed
    cdef PyObjectArenaAllocator mine
    if _installed:
        return 0
    PyObject_GetArenaAllocator(&_wrapped)
    mine.ctx = NULL
    mine.alloc = _alloc
    mine.free = _free
    PyObject_SetArenaAllocator(&mine)
    _installed = True
    return 0


def installed():
    """True once a compiled hub has put the cache in place."""
    return _installed


def stats():
    """``(chunks kept now, chunks handed out again so far)``."""
    return _count, _reused
