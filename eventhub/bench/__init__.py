"""``python -m eventhub.bench``: eventhub's hubs against eventlet, gevent, asyncio and uvloop.

Each (implementation, workload) runs in a fresh worker process
(``eventhub.bench._worker``); the orchestrator (``runner``) collects the
samples, checks the operation counts, and ``report`` prints the table or
JSON.  See docs/bench.md.
"""
