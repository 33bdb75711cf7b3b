# Included by _core.pyx, before BaseHub.
# Owns the bodies of BaseHub's listener table: the fd-indexed slots of
# FdListeners (add, remove, close, obsolete fds), the trampoline wait, and the
# fire paths backends call when an fd is ready.  Each is a module-level
# function of `self`, which BaseHub's method of the same name calls: Cython
# cannot include into a class body, and a cdef inline call costs nothing.


cdef inline int _hub_accept_fd(BaseHub self, object fileno) except -1:
    cdef int fd = fileno  # as_fileno() refused anything beyond a C int
    # Never trust an fd number: the slot table only grows for open fds,
    # so its size stays bounded by the process's real descriptors.
    if fd >= self._nslots and fcntl(fd, F_GETFD) == -1:
        PyErr_SetFromErrno(OSError)
    return fd


cdef inline int _hub_grow(BaseHub self, int fd) except -1:
    cdef int n = self._nslots
    cdef int new_n = n * 2 if n else 64
    cdef FdState *grown
    if fd < n:
        return 0
    while new_n <= fd:
        if new_n > INT_MAX // 2:
            new_n = fd + 1
            break
        new_n *= 2
    grown = <FdState *>PyMem_Realloc(self._fdstate, <size_t>new_n * sizeof(FdState))
    if grown == NULL:
        raise MemoryError()
    memset(&grown[n], 0, <size_t>(new_n - n) * sizeof(FdState))
    self._fdstate = grown
    self._readers.extend([None] * (new_n - n))
    self._writers.extend([None] * (new_n - n))
    self._nslots = new_n
    return 0


cdef inline object _hub_add_listener(BaseHub self, object evtype, object fileno, object cb, object tb, object mark_as_closed, object target):
    """add(); with ``target`` (the current greenlet; lclass FdListener), cb/tb are its own switch/throw."""
    cdef FdListener listener
    cdef bint write
    cdef int fd
    cdef list slots
    cdef dict queued
    if evtype is READ:
        write = False
    elif evtype is WRITE:
        write = True
    elif evtype == READ:
        evtype = READ
        write = False
    elif evtype == WRITE:
        evtype = WRITE
        write = True
    else:
        raise ValueError(f"evtype must be {READ!r} or {WRITE!r}, not {evtype!r}")
    if self.destroyed:
        raise HubDestroyed("add() on a destroyed hub")
    fileno = _as_fileno(fileno)
    if target is None and (not callable(cb) or not callable(tb)):
        raise TypeError("the listener's cb and tb must be callable")
    if mark_as_closed is not None and not callable(mark_as_closed):
        raise TypeError("mark_as_closed must be callable or None")
    if self.lclass is FdListener:
        listener = FdListener.__new__(FdListener)
        listener.evtype = evtype
        listener.fileno = fileno
        listener._cb = cb
        listener._tb = tb
        listener._target = target
        listener.mark_as_closed = mark_as_closed
        listener.greenlet = getcurrent() if target is None else target
    else:
        obj = self.lclass(evtype, fileno, cb, tb, mark_as_closed)
        if not isinstance(obj, FdListener):
            raise TypeError("a compiled hub's lclass must make FdListener instances")
        listener = <FdListener>obj
    listener._write = write
    fd = self._accept_fd(fileno)
    listener._fd = fd
    self._grow(fd)
    slots = self._writers if write else self._readers
    primary = slots[fd]
    if primary is not None:
        if self.multiple_readers_prevented():
            raise RuntimeError(
                f"Second simultaneous {evtype} on fileno {fileno} detected. Unless you "
                f"really know what you're doing, make sure that only one greenthread can "
                f"{evtype} any particular socket; to allow it, set the hub's "
                f"prevent_multiple_readers to False. MY THREAD={listener.cb!r}; "
                f"THAT THREAD={(<FdListener>primary).cb!r}"
            )
        queued = self._queued_w if write else self._queued_r
        queue = queued.get(fd)
        if queue is None:
            queued[fd] = [listener]
        else:
            queue.append(listener)
        return listener
    self._order_seq += 1
    listener._order = self._order_seq
    slots[fd] = listener
    try:
        self._update_interest(fd)
    except BaseException:
        # The slot table may have grown meanwhile: index afresh.
        slots = self._writers if write else self._readers
        if slots[fd] is listener:
            slots[fd] = None
        listener.spent = True
        raise
    return listener


cdef inline int _hub_remove(BaseHub self, object listener) except -1:
    cdef FdListener lst
    cdef FdListener promoted
    cdef list slots
    cdef dict queued
    cdef int fd
    if not isinstance(listener, FdListener):
        raise TypeError(f"not a listener of this hub: {listener!r}")
    lst = <FdListener>listener
    if lst.spent:
        return 0
    lst.spent = True
    fd = lst._fd
    if fd < 0 or fd >= self._nslots:
        return 0
    slots = self._writers if lst._write else self._readers
    queued = self._queued_w if lst._write else self._queued_r
    if slots[fd] is lst:
        if queued:
            queue = queued.get(fd)
            if queue:
                promoted = queue.pop(0)
                promoted._order = lst._order  # takes the old one's place
                slots[fd] = promoted
                if not queue:
                    del queued[fd]
                return 0
        slots[fd] = None
        try:
            self._update_interest(fd)
        except OSError:
            pass  # the fd was closed under us; the kernel forgot it already
    elif queued:
        queue = queued.get(fd)
        if queue and lst in queue:
            queue.remove(lst)
            if not queue:
                del queued[fd]
    return 0


cdef inline int _hub_obsolete(BaseHub self, object fileno) except -1:
    cdef int fd
    if not isinstance(fileno, int) or fileno < 0 or fileno >= self._nslots:
        return 0  # never had a listener: nothing to defang or forget
    fd = fileno
    for write in (False, True):
        queued = self._queued_w if write else self._queued_r
        for listener in queued.pop(fd, ()):
            self.closed.append(listener)
            listener.defang()
        slots = self._writers if write else self._readers
        listener = slots[fd]
        if listener is not None:
            slots[fd] = None
            self.closed.append(listener)
            listener.defang()
    if fd < self._nslots:
        self._forget(fd)
    return 0


cdef object _hub_multiple_readers_prevented(BaseHub self):
    return self.prevent_multiple_readers


cdef object _hub_remove_descriptor(BaseHub self, fileno):
    cdef int fd
    cdef FdListener listener
    if not isinstance(fileno, int) or fileno < 0 or fileno >= self._nslots:
        return
    fd = fileno
    woken = []
    for write in (False, True):
        queued = self._queued_w if write else self._queued_r
        woken.extend(queued.pop(fd, ()))
        slots = self._writers if write else self._readers
        primary = slots[fd]
        if primary is not None:
            slots[fd] = None
            woken.append(primary)
    self._forget(fd)
    for listener in woken:
        listener.spent = True
        try:
            listener.cb(fileno)
        except BaseException as e:
            if isinstance(e, self.SYSTEM_EXCEPTIONS):
                raise
            self.squelch_generic_exception(sys.exc_info())


cdef object _hub_close_one(BaseHub self):
    listener = self.closed.pop()
    if not listener.greenlet.dead:
        try:
            listener.tb(self.IOClosed(errno.ENOTCONN, "Operation on closed file"))
        except BaseException as e:
            if isinstance(e, self.SYSTEM_EXCEPTIONS):
                raise
            # The greenthread did not handle it and died: its error ends
            # here (printed), like one raised from a timer or fd callback.
            self.squelch_generic_exception(sys.exc_info())


cdef inline object _hub_trampoline(BaseHub self, object fileno, bint write, object timeout, object timeout_exc, object mark_as_closed, object owner):
    cdef Timer timer = None
    cdef bint py_io
    current = getcurrent()
    if self._greenlet is current:
        raise RuntimeError("do not call blocking functions (trampoline) from the hub's own greenlet")
    # add/remove/switch overridden by a Python subclass or an instance
    # attribute are honoured, as the reference trampoline calls them.
    py_io = self._py_io or self._io_overridden()
    if timeout is not None:
        timer = self._schedule_global(timeout, current.throw, (timeout_exc,))
    try:
        self._io_owner = owner
        try:
            evtype = WRITE if write else READ
            if py_io:
                listener = self.add(evtype, fileno, current.switch, current.throw, mark_as_closed)
            elif (self.lclass is FdListener and own_method(current, "switch", _GREENLET_SWITCH, &_wait_switch_memo)
                    and own_method(current, "throw", _GREENLET_THROW, &_wait_throw_memo)):
                listener = self._add_listener(evtype, fileno, None, None, mark_as_closed, current)
            else:
                listener = self._add(evtype, fileno, current.switch, current.throw, mark_as_closed)
        finally:
            self._io_owner = None
        try:
            return self.switch() if py_io else self._switch_from(current)
        finally:
            if py_io:
                self.remove(listener)
            else:
                self._remove(listener)
    finally:
        if timer is not None:
            timer._cancel()


cdef inline int _hub_fire_read(BaseHub self, int fd) except -1:
    if fd < 0 or fd >= self._nslots:
        return 0
    listener = self._readers[fd]
    if listener is None:
        return 0
    return self._fire(<FdListener>listener)


cdef inline int _hub_fire_write(BaseHub self, int fd) except -1:
    if fd < 0 or fd >= self._nslots:
        return 0
    listener = self._writers[fd]
    if listener is None:
        return 0
    return self._fire(<FdListener>listener)


cdef inline int _hub_fire(BaseHub self, FdListener listener) except -1:
    cdef PyObject *found = listener_target(listener)
    cdef bint handoff
    self._woken_fd = listener._fd
    try:
        if found != NULL:  # g.switch(fd), in C
            target = <object>found  # held: g may drop its listener meanwhile
            args = (listener._fd,)
            greenlet_switch(target, <PyObject *>args, NULL)
        else:
            # A callback runs in the loop's greenlet: if it switches to a
            # greenlet that blocks, the callback must go on before the
            # batch does, so no _handoff_io meanwhile.
            handoff = self._io_batch
            self._io_batch = False
            try:
                listener._cb(listener._fd)
            finally:
                self._io_batch = handoff
    except BaseException as e:
        if isinstance(e, self.SYSTEM_EXCEPTIONS):
            raise
        # A greenlet that died of it was woken last: by this listener,
        # or by _handoff_io after the one woken here blocked again.
        self.squelch_exception(self._woken_fd, sys.exc_info())
    return 0


cdef object _hub_squelch_exception(BaseHub self, fileno, exc_info):
    if self.debug_exceptions:
        traceback.print_exception(*exc_info)
        sys.stderr.write(f"Removing descriptor: {fileno!r}\n")
        sys.stderr.flush()
    try:
        self.remove_descriptor(fileno)
    except Exception as e:
        sys.stderr.write(f"Exception while removing descriptor! {e!r}\n")
        sys.stderr.flush()
