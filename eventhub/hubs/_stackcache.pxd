# Installs the frame-stack chunk cache (see _stackcache.pyx); the compiled
# hub calls it when the first hub is created.
cdef int install() except -1
