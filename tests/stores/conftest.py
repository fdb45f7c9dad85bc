"""Store fixtures live in ``store_support`` so test modules can import its helpers by a
unique module name (every test folder has a ``conftest``)."""

from store_support import harness, redis_process, redis_server_bin, redis_url

__all__ = ["harness", "redis_process", "redis_server_bin", "redis_url"]
