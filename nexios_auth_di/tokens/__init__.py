"""JWT: the key ring, the verifier (hot path), and the token service (issue, rotate, revoke)."""

from nexios_auth_di.tokens.keys import Key, KeyRing
from nexios_auth_di.tokens.service import RESERVED_CLAIMS, TokenService
from nexios_auth_di.tokens.verifier import TokenVerifier

__all__ = ["RESERVED_CLAIMS", "Key", "KeyRing", "TokenService", "TokenVerifier"]
