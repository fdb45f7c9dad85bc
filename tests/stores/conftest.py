"""Store fixtures live in ``store_support`` so test modules can import its helpers by a
unique module name (every test folder has a ``conftest``); the Redis fixtures are
suite-wide (``tests/support/redis_server.py``)."""

from store_support import harness

__all__ = ["harness"]
