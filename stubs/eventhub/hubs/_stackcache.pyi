"""Types of the compiled frame-stack chunk cache (eventhub/hubs/_stackcache.pyx)."""

CHUNK_SIZE: int
KEEP: int

def installed() -> bool: ...
def stats() -> tuple[int, int]: ...
