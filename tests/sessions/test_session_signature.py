"""The session cookie's signature is HMAC-SHA-256 (ASVS 5.0 11.4.1, Appendix C)."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64decode

import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer

from nexios_auth_di.sessions import SessionMiddleware

SECRET = "session-signature-test-secret-0123456789abcdef"


def _b64(part: str) -> bytes:
    return urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_session_cookie_is_signed_with_hmac_sha256() -> None:
    """A cookie value carries a 32-byte SHA-256 MAC, and a SHA-1-signed value is refused."""
    middleware = SessionMiddleware(secret_key=SECRET)
    value = middleware._serializer.dumps({"d": {}, "s": None, "c": 0.0, "i": "x"})
    assert len(_b64(value.rsplit(".", 1)[1])) == hashlib.sha256().digest_size
    legacy = URLSafeTimedSerializer(SECRET.encode(), salt="nexios_auth_di.session.client")
    forged = legacy.dumps({"d": {"user_id": "alice"}, "s": "alice", "c": 0.0, "i": "x"})
    assert middleware._serializer.loads(value) is not None
    assert not hmac.compare_digest(forged.rsplit(".", 1)[1], value.rsplit(".", 1)[1])
    with pytest.raises(BadSignature):  # the SHA-1 MAC does not verify
        middleware._serializer.loads(forged)
