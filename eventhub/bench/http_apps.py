"""The WSGI applications ``python -m eventhub.bench --http`` serves (gunicorn loads them from here).

``hello`` answers a fixed body.  ``redis_get`` makes one redis round trip
per request (redis-py, a GET of ``REDIS_KEY``, which the bench stores first)
through a pool of ``REDIS_POOL`` connections shared by the worker's
greenthreads, which wait for a free one (``BlockingConnectionPool``), the
way an application serving many more clients than it wants redis
connections keeps its client; the server's port comes from
``EVENTHUB_BENCH_REDIS_PORT``.  redis-py is imported on the first request,
after the worker monkey-patched the socket module.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable

#: The key the bench stores before it starts the servers, and its value.
REDIS_KEY = "eventhub-bench"
REDIS_VALUE = b"Hello from redis!"

HELLO = b"Hello, World!"

#: Connections in a worker's redis pool; requests beyond it wait their turn.
REDIS_POOL = 100

StartResponse = Callable[..., Any]

_redis_client: Any = None


def hello(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
    return [HELLO]


def redis_get(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    global _redis_client
    if _redis_client is None:
        import redis

        port = int(os.environ["EVENTHUB_BENCH_REDIS_PORT"])
        pool = redis.BlockingConnectionPool(host="127.0.0.1", port=port, max_connections=REDIS_POOL, timeout=30)  # type: ignore[no-untyped-call,unused-ignore]
        _redis_client = redis.Redis(connection_pool=pool)
    body = _redis_client.get(REDIS_KEY)
    if body != REDIS_VALUE:
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
