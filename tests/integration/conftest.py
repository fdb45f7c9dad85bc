"""The integration tests use the suite-wide Redis fixtures (``tests/redis_support.py``):
``redis_url`` (never skipped in CI) and ``redis_process`` (a server a test may kill)."""
