"""A small cache of CPython's frame-stack chunks, so starting a greenlet costs no mmap.

CPython 3.11+ keeps Python frames on a per-thread data stack made of chunks
(16 KiB on 3.11-3.14), and greenlet gives every greenlet a data stack of its
own.  So the first Python call in a new greenlet allocates a chunk, and its
end frees it, through the interpreter's *arena allocator*: an ``mmap`` and a
``munmap`` plus page faults for each greenthread spawned.  That is about
nine tenths of the cost of starting a greenlet (100k/s against 1.1M/s here).

``install()`` wraps the arena allocator with one that keeps up to
``KEEP`` freed chunks of exactly that size and hands them out again;
every other request goes to the allocator it wraps.  At most
``KEEP * CHUNK_SIZE`` bytes (1 MiB) stay mapped.  The compiled hub installs
it when the first compiled hub is created: process-wide, once, never removed.
Where ``eventhub.includes.pycompat`` does not know this CPython's chunk size,
``CHUNK_SIZE`` is 0 and nothing is installed.

The arena allocator is process-wide, but since 3.12 sub-interpreters with
a GIL of their own (and free-threaded builds) call it concurrently.  So the
cache is behind a lock that is only ever *tried*: a caller that finds it
taken goes straight to the wrapped allocator, which is thread-safe (mmap and
munmap).  Nobody waits, and every block still comes from, and goes back to,
the one allocator.
"""

from libc.stdint cimport uint64_t

from eventhub.includes.cpython_api cimport (
    PyObject_GetArenaAllocator,
    PyObject_SetArenaAllocator,
    PyObjectArenaAllocator,
)
from eventhub.includes.pycompat cimport DATA_STACK_CHUNK_SIZE

cdef extern from *:
    """
    /* A lock that is only tried, never waited for (GCC/clang atomics). */
    static char eh_cache_lock = 0;
    static inline int eh_cache_try_lock(void) {
        return !__atomic_test_and_set(&eh_cache_lock, __ATOMIC_ACQUIRE);
    }
    static inline void eh_cache_unlock(void) {
        __atomic_clear(&eh_cache_lock, __ATOMIC_RELEASE);
    }
    """
    bint try_lock "eh_cache_try_lock"() noexcept nogil
    void unlock "eh_cache_unlock"() noexcept nogil

cdef enum:
    _KEEP = 64

#: The chunk size cached (0: not known on this CPython, cache off) and how many chunks are kept at most.
CHUNK_SIZE = DATA_STACK_CHUNK_SIZE
KEEP = _KEEP

cdef PyObjectArenaAllocator _wrapped   # the allocator in place before install()
cdef bint _installed = False
cdef void *_free_chunks[_KEEP]
cdef int _count = 0
cdef uint64_t _reused = 0
cdef uint64_t _contended = 0   # calls that found the lock taken and bypassed the cache


cdef void *_alloc(void *ctx, size_t size) noexcept nogil:
    global _count, _reused, _contended
    cdef void *chunk = NULL
    if size == DATA_STACK_CHUNK_SIZE:
        if try_lock():
            if _count > 0:
                _count -= 1
                _reused += 1
                chunk = _free_chunks[_count]
            unlock()
        else:
            _contended += 1  # racy count: statistics only
    if chunk != NULL:
        return chunk
    return _wrapped.alloc(_wrapped.ctx, size)


cdef void _free(void *ctx, void *ptr, size_t size) noexcept nogil:
    global _count, _contended
    # Every block here came from _wrapped (directly or through _alloc), so
    # keeping it for a later _alloc or giving it back to _wrapped are both right.
    if size == DATA_STACK_CHUNK_SIZE and ptr != NULL:
        if try_lock():
            if _count < _KEEP:
                _free_chunks[_count] = ptr
                _count += 1
                ptr = NULL
            unlock()
        else:
            _contended += 1
    if ptr != NULL:
        _wrapped.free(_wrapped.ctx, ptr, size)


cdef int install() except -1:
    """Put the cache in front of the arena allocator (once per process; a no-op where CHUNK_SIZE is 0).

    Only the compiled core calls this, with its interpreter's GIL held, and
    the compiled modules load in one interpreter per process.
    """
    global _installed
    cdef PyObjectArenaAllocator mine
    if _installed or DATA_STACK_CHUNK_SIZE == 0:
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


def contended():
    """How many allocator calls found the cache busy (another interpreter in it) and went around it."""
    return _contended
