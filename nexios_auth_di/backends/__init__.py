"""Built-in backends: session, JWT and API key."""

from nexios_auth_di.backends.apikey import APIKeyBackend
from nexios_auth_di.backends.jwt import JWTAuthBackend
from nexios_auth_di.backends.session import SessionAuthBackend

__all__ = ["APIKeyBackend", "JWTAuthBackend", "SessionAuthBackend"]
