"""Login and registration throttling: one atomic ``reserve`` per counter, on memory,
SQLite or Redis (see ``limiter.py``), and the ``LoginThrottle`` built on it."""

from nexios_auth_di.throttle.factory import limiter_for
from nexios_auth_di.throttle.limiter import Decision, Limiter, Rule
from nexios_auth_di.throttle.login import Attempt, LoginThrottle
from nexios_auth_di.throttle.memory import MemoryLimiter

__all__ = [
    "Attempt",
    "Decision",
    "Limiter",
    "LoginThrottle",
    "MemoryLimiter",
    "Rule",
    "limiter_for",
]
