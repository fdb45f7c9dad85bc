"""``TokenVerifier``: pure JWT verification (no I/O) over a ``KeyRing``.

It keeps a bounded cache of *verified* tokens: a repeat request costs a dict lookup and
two clock comparisons instead of a signature check, which is the only way to get under
the ~80 µs a decode costs inside a Nexios request (docs/design.md §4). ``tokens.TokenService``
adds what needs a store.
"""

from __future__ import annotations

import base64
import math
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from jwt.algorithms import Algorithm, get_default_algorithms
from jwt.api_jws import PyJWS
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from nexios_auth_di.exceptions import ConfigurationError, MalformedData, TokenError
from nexios_auth_di.strict_json import STRICT_DECODER
from nexios_auth_di.tokens.keys import Key, KeyRing

__all__ = ["Clock", "TokenVerifier"]

Clock = Callable[[], float]
# Compact JWS: three base64url segments (only the payload may be empty) and nothing else
# (RFC 7515 §7.1, §2).
# One regex refuses whitespace, NUL, non-ASCII, padding, JWE's five segments, and more.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")


_DECODER = STRICT_DECODER


def _json_object(data: bytes) -> dict[str, Any]:
    """Parse a JSON object, refusing duplicate names and NaN/Infinity anywhere in it."""
    value = _DECODER.decode(data.decode("utf-8"))
    if type(value) is not dict:
        raise MalformedData("not a JSON object")
    return value


def _reason(exc: jwt.PyJWTError) -> str:
    """A short code for logs; never the token or PyJWT's message."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return {"aud": "bad_audience", "iss": "bad_issuer"}.get(exc.claim, "missing_claim")
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "invalid_token"


_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "bad_algorithm"),
    (jwt.InvalidAudienceError, "bad_audience"),
    (jwt.InvalidIssuerError, "bad_issuer"),
    (jwt.InvalidKeyError, "bad_key"),
    (InvalidSubjectError, "bad_subject"),
    (InvalidJTIError, "bad_jti"),
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.DecodeError, "malformed"),
)


def _b64(segment: str) -> bytes:
    """base64url without padding (RFC 7515 §2); the alphabet was checked by ``_COMPACT``.

    Only the canonical encoding is accepted (RFC 4648 §3.5): spare low bits in the last
    character must be zero, so one token has exactly one spelling (no malleability).
    """
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=") != segment.encode("ascii"):
        raise MalformedData("non-canonical base64url")
    return data


def _audience_ok(aud: Any, audience: str) -> bool:
    """RFC 7519 §4.1.3: ``aud`` is a string or an array of strings that includes us."""
    if type(aud) is str:
        return aud == audience
    return type(aud) is list and all(type(a) is str for a in aud) and audience in aud


def _number(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate (RFC 7519 §2): a finite int or float; bools and strings refused."""
    value = claims.get(name)
    if value is None:
        return None
    if (type(value) is not int and type(value) is not float) or not math.isfinite(value):
        raise TokenError("bad_time_claim")
    return float(value)


class TokenVerifier:
    """Verify compact JWS/JWT strings against a ``KeyRing``; raise ``TokenError(reason)``.

    Rules beyond PyJWT's: tokens over ``max_length`` are refused before any decoding;
    the ``crit`` and ``b64`` headers are refused (we implement no extensions, RFC 7515
    §4.1.11); header or payload JSON with a duplicate member name is refused (RFC 7519 §4
    lets a parser reject them, and rejecting is the only choice that cannot disagree with
    another parser); time claims must be finite numbers and are checked against the
    injected ``clock``; the first present ``identity_claims`` member must be a non-empty
    str or an int. A token without ``typ`` counts as an access token (tokens minted by
    plain ``jwt.encode``); a ``refresh`` token never passes as ``access``.

    The verified-token cache holds only tokens that passed every check, keyed by the exact
    string. Each hit re-checks ``exp``/``nbf`` and the expected type; a change of
    ``key_ring.generation`` empties it. Callers get a fresh top-level ``dict``; nested
    values (lists) are shared with the cache and must be treated as read-only.
    """

    __slots__ = (
        "_algorithms",
        "_audience",
        "_cache",
        "_cache_size",
        "_clock",
        "_generation",
        "_identity",
        "_issuer",
        "_jws",
        "_leeway",
        "_max_length",
        "_prepared",
        "_ring",
        "required",
    )

    def __init__(
        self,
        key_ring: KeyRing,
        *,
        required: Iterable[str] = ("exp", "iat", "sub", "jti"),
        issuer: str | None = None,
        audience: str | None = None,
        leeway: float = 0.0,
        max_length: int = 8192,
        clock: Clock = time.time,
        cache_size: int = 4096,
        identity_claims: Iterable[str] = ("sub",),
    ) -> None:
        if leeway < 0 or max_length <= 0 or cache_size < 0:
            raise ConfigurationError("leeway and cache_size must be >= 0, max_length > 0")
        self._ring = key_ring
        self.required = tuple(required)
        self._issuer, self._audience = issuer, audience
        self._leeway = float(leeway)
        self._max_length = max_length
        self._clock = clock
        self._cache_size = cache_size
        self._identity = tuple(identity_claims)
        self._cache: dict[str, tuple[dict[str, Any], float, float | None, str]] = {}
        self._generation = key_ring.generation
        self._jws = PyJWS(options={"enforce_minimum_key_length": True})
        self._algorithms: dict[str, Algorithm] = get_default_algorithms()
        self._prepared: dict[str, tuple[Key, Algorithm, Any]] = {}

    @property
    def key_ring(self) -> KeyRing:
        return self._ring

    def verify(self, token: str, expected_type: str | None = "access") -> dict[str, Any]:
        """Return the claims of a valid token, or raise ``TokenError``."""
        if type(token) is not str:
            raise TokenError("malformed")
        if self._ring.generation != self._generation:
            self._cache.clear()
            self._prepared.clear()
            self._generation = self._ring.generation
        entry = self._cache.get(token)
        if entry is None:
            return dict(self._verify_cold(token, expected_type))
        claims, exp, nbf, typ = entry
        now, leeway = self._clock(), self._leeway
        if exp <= now - leeway:
            del self._cache[token]
            raise TokenError("expired")
        if nbf is not None and nbf > now + leeway:
            raise TokenError("not_yet_valid")
        if expected_type is not None and typ != expected_type:
            raise TokenError("wrong_type")
        return dict(claims)

    def verify_signature(self, token: str) -> bytes:
        """Check size, shape, header, key and signature only; return the raw payload.

        For JWS whose payload is not a JWT claims set (test vectors); nothing is cached.
        """
        key = self._precheck(token)
        try:
            decoded = self._jws.decode_complete(
                token, key.verifying_key, algorithms=[key.algorithm]
            )
        except jwt.PyJWTError as exc:
            raise TokenError(_reason(exc)) from None
        payload: bytes = decoded["payload"]
        return payload

    def _precheck(self, token: object) -> Key:
        if type(token) is not str or len(token) > self._max_length:
            raise TokenError("malformed" if type(token) is not str else "too_large")
        if _COMPACT.fullmatch(token) is None:
            raise TokenError("malformed")
        segment = token[: token.index(".")]
        try:
            header = _json_object(_b64(segment))
        except (ValueError, RecursionError):
            raise TokenError("malformed") from None
        if "crit" in header or "b64" in header:
            raise TokenError("unsupported_header")
        return self._ring.key_for(header)

    def _prepared_key(self, key: Key) -> tuple[Algorithm, Any]:
        """PyJWT's algorithm and the key prepared once per key, not once per token."""
        found = self._prepared.get(key.kid)
        if found is None or found[0] is not key:
            algorithm = self._algorithms[key.algorithm]
            try:
                prepared = algorithm.prepare_key(key.verifying_key)
            except jwt.PyJWTError as exc:
                raise TokenError(_reason(exc)) from None
            found = self._prepared[key.kid] = (key, algorithm, prepared)
        return found[1], found[2]

    def _verify_cold(self, token: str, expected_type: str | None) -> dict[str, Any]:
        # Signature with PyJWT's algorithm objects; the shape, base64 alphabet and header
        # were already checked above, so PyJWT's per-call re-validation is skipped.
        key = self._precheck(token)
        algorithm, prepared = self._prepared_key(key)
        signing_input, _, signature = token.rpartition(".")
        try:
            valid = algorithm.verify(signing_input.encode("ascii"), prepared, _b64(signature))
            claims = _json_object(_b64(signing_input[signing_input.index(".") + 1 :]))
        except (ValueError, RecursionError):
            raise TokenError("malformed") from None
        if not valid:
            raise TokenError("bad_signature")
        for name in self.required:
            if claims.get(name) is None:  # null counts as missing, as in PyJWT
                raise TokenError("missing_claim")
        if "sub" in claims and type(claims["sub"]) is not str:  # RFC 7519 §4.1.2
            raise TokenError("bad_subject")
        if "jti" in claims and type(claims["jti"]) is not str:  # RFC 7519 §4.1.7
            raise TokenError("bad_jti")
        if self._issuer is not None and claims.get("iss") != self._issuer:
            raise TokenError("bad_issuer")
        if self._audience is not None and not _audience_ok(claims.get("aud"), self._audience):
            raise TokenError("bad_audience")
        now, leeway = self._clock(), self._leeway
        exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
        if exp is not None and exp <= now - leeway:
            raise TokenError("expired")
        if (nbf is not None and nbf > now + leeway) or (iat is not None and iat > now + leeway):
            raise TokenError("not_yet_valid")
        for name in self._identity:
            if name in claims:
                ident = claims[name]
                if not ((type(ident) is str and ident) or type(ident) is int):
                    raise TokenError("bad_identity")
                break
        else:
            if self._identity:
                raise TokenError("no_identity")
        typ = claims.get("typ", "access")
        if type(typ) is not str:
            raise TokenError("wrong_type")
        if expected_type is not None and typ != expected_type:
            raise TokenError("wrong_type")
        if self._cache_size:
            cache = self._cache
            if len(cache) >= self._cache_size:
                del cache[next(iter(cache))]  # FIFO: dicts keep insertion order
            cache[token] = (claims, math.inf if exp is None else exp, nbf, typ)
        return claims

    @property
    def cache_len(self) -> int:
        return len(self._cache)
