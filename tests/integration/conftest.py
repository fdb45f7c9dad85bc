"""The integration tests use the suite-wide Redis fixtures (``tests/support/redis_server.py``):
``redis_url`` (never skipped in CI) and ``redis_process`` (a server a test may kill)."""
