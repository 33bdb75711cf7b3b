# Every use of CPython's internals, in one place, per version.  (The C
# helpers below that no Cython code names, eh_class_gives and
# eh_get_optional_attr, are used by the C helpers of _core.pyx.)
#
# The compiled modules take a few shortcuts past CPython's public C API,
# each for speed on a hot path.  They all live here, behind PY_VERSION_HEX:
# on the versions they were written for (EH_CPYTHON_KNOWN: 3.11 to 3.14;
# run and tested on 3.11-3.13, 3.14's headers read) they are used; on any
# other version each one answers "not known", and its caller takes the
# general path, which is slower and always right.  Where CPython has a public
# replacement (3.13's PyObject_GetOptionalAttr and PyWeakref_GetRef), it is
# used from the version that has it.  `available()` below says which
# shortcuts this build has; tests/test_shortcuts.py checks each one engages.
#
# None of them keeps process-global state: the class memos live in the
# modules that use them, and the compiled modules load in one interpreter
# only (Cython's single-interpreter check), so sub-interpreters never share
# a memo.

from cpython.object cimport PyObject

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030F0000
    #  define EH_CPYTHON_KNOWN 1
    #else
    #  define EH_CPYTHON_KNOWN 0
    #endif

    /* getattr(o, name) without raising AttributeError: 1 and a new reference
       in *result if found, 0 and NULL if not, -1 with an exception set. */
    #if PY_VERSION_HEX >= 0x030D0000
    #  define eh_get_optional_attr(o, name, result) PyObject_GetOptionalAttr((o), (name), (result))
    #else
    #  define eh_get_optional_attr(o, name, result) _PyObject_LookupAttr((o), (name), (result))
    #endif

    /* o's instance dict when it holds anything, else NULL; *unknown is set
       where that is not cheaply told (a managed or negative-offset dict).
       Uses only tp_dictoffset, a public field; greenlets and compiled hubs
       keep their dict there. */
    static inline PyObject *eh_nonempty_instance_dict(PyObject *o, int *unknown) {
        Py_ssize_t offset = Py_TYPE(o)->tp_dictoffset;
        PyObject *dict;
        *unknown = offset < 0;
        if (offset <= 0)
            return NULL;
        dict = *(PyObject **)((char *)o + offset);
        return (dict != NULL && PyDict_GET_SIZE(dict) != 0) ? dict : NULL;
    }
    /* 0 if o certainly has no instance attribute `name`, 1 if it has one or
       that is not cheaply told: a 1 sends the caller down the general path. */
    static inline int eh_instance_has(PyObject *o, PyObject *name) {
        int unknown;
        PyObject *dict = eh_nonempty_instance_dict(o, &unknown);
        /* name is an interned literal: its hash is cached, so no error. */
        return unknown || (dict != NULL && PyDict_GetItem(dict, name) != NULL);
    }
    /* 0 if o has no instance attributes at all (told in one look), else 1. */
    static inline int eh_instance_dict_used(PyObject *o) {
        int unknown;
        return eh_nonempty_instance_dict(o, &unknown) != NULL || unknown;
    }

    /* The class memo: a yes/no about a class, remembered by one call site
       for as long as the class keeps its version tag.  CPython gives a class
       a new tag whenever it or a base changes (`Cls.switch = f`,
       `__bases__ = ...`), sets it to 0 while it has none, and never reuses
       one within an interpreter.  3.11 and 3.12 also flag a valid tag with
       Py_TPFLAGS_VALID_VERSION_TAG; 3.13 dropped the flag, so only the
       tag's value is read.  Saves _PyType_Lookup's ~30 instructions and
       PyType_IsSubtype's ~25 per sleep(0) on the same class. */
    typedef struct {
        PyTypeObject *type;  /* NULL: nothing remembered yet */
        unsigned int version;
        int answer;
    } eh_class_memo;

    #define EH_CLASS_MEMO EH_CPYTHON_KNOWN

    static inline int eh_memo_hit(const eh_class_memo *memo, PyTypeObject *tp) {
    #if EH_CLASS_MEMO
        return tp == memo->type && memo->version != 0 && tp->tp_version_tag == memo->version;
    #else
        return 0;
    #endif
    }
    /* Remember `answer` for tp if tp has a version tag (a lookup gives it one). */
    static inline int eh_memo_keep(eh_class_memo *memo, PyTypeObject *tp, int answer) {
    #if EH_CLASS_MEMO
        if (tp->tp_version_tag != 0) {
            memo->type = tp;
            memo->version = tp->tp_version_tag;
            memo->answer = answer;
        }
    #endif
        return answer;
    }
    /* 1 if tp's attribute lookup is the generic one and finds `descr` for
       `name` (a method descriptor of a class tp subclasses, or NULL for
       nothing); 0 if not, or if this version cannot tell cheaply. */
    static inline int eh_class_gives(eh_class_memo *memo, PyTypeObject *tp, PyObject *name, PyObject *descr) {
    #if EH_CLASS_MEMO
        if (eh_memo_hit(memo, tp))
            return memo->answer;
        return eh_memo_keep(memo, tp, tp->tp_getattro == PyObject_GenericGetAttr
                                      && _PyType_Lookup(tp, name) == descr
                                      && (descr == NULL || PyType_IsSubtype(tp, PyDescr_TYPE(descr))));
    #else
        return 0;
    #endif
    }
    /* The class the memo holds an answer for, or NULL. */
    static inline PyObject *eh_memo_type(const eh_class_memo *memo) {
        return (memo->type != NULL && eh_memo_hit(memo, memo->type)) ? (PyObject *)memo->type : NULL;
    }

    /* 1 if the weak reference `ref` points at obj, 0 if at another object
       or at none, -1 with an exception set if ref is no weak reference. */
    static inline int eh_weakref_is(PyObject *ref, PyObject *obj) {
    #if PY_VERSION_HEX >= 0x030D0000
        PyObject *target;
        int found = PyWeakref_GetRef(ref, &target);
        if (found <= 0)
            return found;
        Py_DECREF(target);
        return target == obj;
    #else
        PyObject *target = PyWeakref_GetObject(ref);  /* borrowed; Py_None once dead */
        return target == NULL ? -1 : target == obj;
    #endif
    }

    /* CPython's socket object (PySocketSockObject, Modules/socketmodule.h)
       starts with the fd after the object header on the known versions.
       The compiled core also checks it on the running interpreter before
       it reads the field (core's _check_socket_layout). */
    typedef struct { PyObject_HEAD int sock_fd; } eh_socket_head;
    #define EH_SOCKET_LAYOUT EH_CPYTHON_KNOWN
    static inline int eh_socket_head_fd(PyObject *sock) { return ((eh_socket_head *)sock)->sock_fd; }

    /* The size of the chunks of a thread's (and with greenlet, a
       greenlet's) Python frame stack, which CPython allocates from the
       arena allocator: DATA_STACK_CHUNK_SIZE in Python/pystate.c, private
       to CPython (no header has it), 16 KiB on 3.11-3.14.  0 where it is
       not known. */
    #if EH_CPYTHON_KNOWN
    #  define EH_DATA_STACK_CHUNK_SIZE (16 * 1024)
    #else
    #  define EH_DATA_STACK_CHUNK_SIZE 0
    #endif

    /* Shrink *o, a bytes object only the caller holds, to its first n
       bytes: 0, or -1 with an exception set and *o freed and NULL.  In
       place with the private _PyBytes_Resize (a recv that got less than it
       asked for keeps its buffer), else into a copy. */
    #define EH_BYTES_RESIZE EH_CPYTHON_KNOWN
    static inline int eh_bytes_shrink(PyObject **o, Py_ssize_t n) {
    #if EH_BYTES_RESIZE
        return _PyBytes_Resize(o, n);
    #else
        PyObject *old = *o;
        *o = PyBytes_FromStringAndSize(PyBytes_AS_STRING(old), n);
        Py_DECREF(old);
        return *o == NULL ? -1 : 0;
    #endif
    }
    """
    bint CLASS_MEMO "EH_CLASS_MEMO"
    bint SOCKET_LAYOUT "EH_SOCKET_LAYOUT"
    const size_t DATA_STACK_CHUNK_SIZE "EH_DATA_STACK_CHUNK_SIZE"
    bint BYTES_RESIZE "EH_BYTES_RESIZE"

    bint instance_has "eh_instance_has"(object o, object name)
    bint instance_dict_used "eh_instance_dict_used"(object o)

    ctypedef struct class_memo "eh_class_memo":
        pass
    PyObject *memo_type "eh_memo_type"(const class_memo *memo)

    int weakref_is "eh_weakref_is"(object ref, object obj) except -1

    int socket_head_fd "eh_socket_head_fd"(object sock)
    Py_ssize_t SOCKET_HEAD_SIZE "sizeof(eh_socket_head)"

    int bytes_shrink "eh_bytes_shrink"(PyObject **o, Py_ssize_t n) except -1
