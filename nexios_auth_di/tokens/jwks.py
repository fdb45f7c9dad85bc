"""The public half of the key ring as a JWK Set (RFC 7517 §5), for other services.

Only asymmetric keys are published, and only their public parameters: an HMAC secret
verifies *and* signs, so it never leaves the process, and a private member (``d``, the
RSA primes and CRT values) is stripped even if a serializer ever added one. Every key
still in the ring is listed, the signing key and the older ones that still verify, so a
verifier keeps accepting tokens signed before a rotation until the old key is retired.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from jwt.algorithms import get_default_algorithms

from nexios_auth_di.tokens.keys import HMAC_ALGORITHMS, Key, KeyRing

__all__ = ["PRIVATE_MEMBERS", "jwk_of", "jwks_of", "publishable"]

#: RFC 7518 §6.2.2 / §6.3.2 / RFC 8037 §2: members that carry private key material
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ALGORITHMS = get_default_algorithms()


def publishable(key: Key) -> bool:
    """Whether ``key`` may appear in a JWKS: asymmetric, with a public key."""
    return key.algorithm not in HMAC_ALGORITHMS and key.verifying_key is not None


def jwk_of(key: Key) -> dict[str, Any]:
    """One public JWK with ``kid``, ``alg`` and ``use: sig`` (RFC 7517 §4)."""
    raw = _ALGORITHMS[key.algorithm].to_jwk(key.verifying_key, as_dict=True)
    jwk = {k: v for k, v in raw.items() if k not in PRIVATE_MEMBERS}
    jwk.update(kid=key.kid, alg=key.algorithm, use="sig")
    return jwk


def jwks_of(ring: KeyRing) -> tuple[dict[str, Any], str]:
    """``({"keys": [...]}, etag)``: the active key first, then the others in ring order."""
    keys = [ring.active] + [k for kid in ring.kids if (k := ring.get(kid)) is not ring.active]
    document = {"keys": [jwk_of(k) for k in keys if k is not None and publishable(k)]}
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return document, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
