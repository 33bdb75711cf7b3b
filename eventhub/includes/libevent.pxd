# libevent 2.1: the part of the public API (event2/event.h) the pyevent hub
# uses, declared here so that building needs only the runtime library
# (libevent_core-2.1.so.7), not the libevent-dev headers.  The structs are
# opaque and the prototypes and constants are libevent 2.1's stable ABI.

from posix.time cimport timeval

cdef extern from *:
    """
    struct event_base;
    struct event;
    struct timeval;
    typedef void (*event_callback_fn)(int, short, void *);
    typedef void (*event_log_cb)(int, const char *);

    struct event_base *event_base_new(void);
    void event_base_free(struct event_base *);
    int event_reinit(struct event_base *);
    int event_base_loop(struct event_base *, int);
    const char *event_base_get_method(const struct event_base *);
    struct event *event_new(struct event_base *, int, short,
                            event_callback_fn, void *);
    void event_free(struct event *);
    int event_add(struct event *, const struct timeval *);
    int event_del(struct event *);
    void event_set_log_callback(event_log_cb);
    const char *event_get_version(void);
    unsigned int event_get_version_number(void);

    enum {
        EVENTHUB_EV_TIMEOUT = 0x01,
        EVENTHUB_EV_READ = 0x02,
        EVENTHUB_EV_WRITE = 0x04,
        EVENTHUB_EV_PERSIST = 0x10,
        EVENTHUB_EVLOOP_ONCE = 0x01,
        EVENTHUB_EVLOOP_NONBLOCK = 0x02
    };
    """
    struct event_base
    struct event
    ctypedef void (*event_callback_fn)(int fd, short what, void *arg) noexcept nogil
    ctypedef void (*event_log_cb)(int severity, const char *msg) noexcept nogil

    enum:
        EV_TIMEOUT "EVENTHUB_EV_TIMEOUT"
        EV_READ "EVENTHUB_EV_READ"
        EV_WRITE "EVENTHUB_EV_WRITE"
        EV_PERSIST "EVENTHUB_EV_PERSIST"
        EVLOOP_ONCE "EVENTHUB_EVLOOP_ONCE"
        EVLOOP_NONBLOCK "EVENTHUB_EVLOOP_NONBLOCK"

    event_base *event_base_new() nogil
    void event_base_free(event_base *base) nogil
    int event_reinit(event_base *base) nogil
    int event_base_loop(event_base *base, int flags) nogil
    const char *event_base_get_method(const event_base *base) nogil
    event *event_new(event_base *base, int fd, short what, event_callback_fn cb, void *arg) nogil
    void event_free(event *ev) nogil
    int event_add(event *ev, const timeval *timeout) nogil
    int event_del(event *ev) nogil
    void event_set_log_callback(event_log_cb cb) nogil
    const char *event_get_version() nogil
    unsigned int event_get_version_number() nogil
