# Included by _core.pyx, before BaseHub.
# Owns the bodies of BaseHub's switching and lifetime: the MAINLOOP
# greenlet and switching into it (with _handoff, in _core.pyx), the run
# loop's wait, abort, waking from other threads, fork (reinit), destroy.
# Each is a module-level function of `self`, which BaseHub's method of the
# same name calls: Cython cannot include into a class body, and a cdef
# inline function compiles into its one caller.


cdef object _hub_ensure_greenlet(BaseHub self):
    old = self.greenlet
    if _dead(old):
        new = _greenlet_mod.greenlet(self.run, old.parent)
        old.parent = new
        self._greenlet = new


cdef inline object _hub_switch_from(BaseHub self, object cur):
    # Kept small: greenlet copies this C frame out and back with every
    # switch, so the unusual cases are handled in _loop_for.
    loop = self._greenlet
    if (loop is None or cur is loop or _dead(loop) or not greenlet_parent_is(cur, loop)
            or not lacks_attr(cur, "switch_out", &_switch_out_memo)):
        loop = self._loop_for(cur)
    if self._io_batch:  # checked first: a timer callback may dispatch I/O, not vice versa
        return self._handoff_io(cur)
    if self._firing:
        return _handoff(self, cur)
    return greenlet_switch(loop, NULL, NULL)


cdef inline object _hub_loop_for(BaseHub self, object cur):
    """The loop greenlet to switch to from ``cur``, ready: alive, not cur,
    cur's ``switch_out`` called, cur re-parented to it."""
    loop = self._greenlet
    if loop is None or _dead(loop):
        self.ensure_greenlet()
        loop = self._greenlet
    if cur is loop:
        raise RuntimeError(
            "a blocking call (sleep, trampoline, wait, ...) was made from the hub's own "
            "greenlet (MAINLOOP); make it from a greenthread instead"
        )
    switch_out = optional_attr(cur, "switch_out", &_switch_out_memo)
    if switch_out is not None:
        try:
            switch_out()
        except Exception:
            self.squelch_generic_exception(sys.exc_info())
    # As the reference: re-parent cur unless already done or a cycle.
    if not greenlet_parent_is(cur, loop) and not greenlet_parent_is(loop, cur):
        try:
            greenlet_set_parent(cur, loop)
        except ValueError:
            pass  # cur is an ancestor of the loop (e.g. the main greenlet)
    return loop


cdef inline int _hub_loop_wait(BaseHub self, double seconds) except -1:
    # A Python subclass or an instance attribute may override wait();
    # honour it as the pure loop (which calls self.wait) would.
    if self._py_wait or self._overridden("wait"):
        self.wait(seconds)
        return 0
    return self._wait(seconds)


cdef object _hub_abort(BaseHub self, wait):
    if self.running:
        self.stopping = True
    if wait:
        assert self._greenlet is not getcurrent(), "Can't abort with wait from inside the hub's greenlet."
        self.schedule_call_global(0, _noop)  # so the loop does not sleep
        self.switch()


cdef object _hub_start_waker(BaseHub self):
    if self.destroyed:
        raise HubDestroyed("a destroyed hub cannot run")
    waker = Waker()
    try:
        self._waker_listener = self.add(READ, waker.fileno(), self._on_wake, ignore_throw, None)
    except BaseException:
        waker.close()
        raise
    self._waker = waker


cdef object _hub_drop_waker(BaseHub self):
    waker, listener = self._waker, self._waker_listener
    self._waker = self._waker_listener = None
    if listener is not None:
        self.remove(listener)
    if waker is not None:
        waker.close()


cdef object _hub_reinit(BaseHub self):
    if self.destroyed:
        return
    self._calls.clear()  # queued for the parent's copy of this hub
    self._reinit_poller()
    running = self._waker is not None
    self._drop_waker()
    if running:
        # As the pure hub: a new waker now, for a loop that may be mid-pass.
        self._start_waker()


cdef object _hub_destroy(BaseHub self):
    if self.destroyed:
        return
    self._drop_waker()
    self.destroyed = True
    self._calls.clear()
    if self.running:
        self.stopping = True
