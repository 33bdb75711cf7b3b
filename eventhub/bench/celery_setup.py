"""What the Celery benchmark's worker, producer and driver agree on.

Kept apart so that the worker's application (``celery_app``), imported
after eventlet's or gevent's monkey-patching, loads none of the bench's
machinery, which binds the unpatched ``select`` at import.
"""

#: The environment variable that gives the worker and the producer redis-server's port.
PORT_ENV = "EVENTHUB_BENCH_REDIS_PORT"
#: Each task's sleep, seconds.
SLEEP = 0.002
