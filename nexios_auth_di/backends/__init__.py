"""Built-in backends: session, JWT and API key."""

from .apikey import APIKeyBackend
from .jwt import JWTAuthBackend
from .session import SessionAuthBackend

__all__ = ["APIKeyBackend", "JWTAuthBackend", "SessionAuthBackend"]
