"""``TokenVerifier``: pure JWT verification (no I/O) over a ``KeyRing``.

It keeps a bounded cache of *verified* tokens: a repeat request costs a dict lookup and
two clock comparisons instead of a signature check, which is the only way to get under
the ~80 µs a decode costs inside a Nexios request (docs/design.md §4). ``tokens.TokenService``
adds what needs a store.
"""

from __future__ import annotations

import binascii
import hmac
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import jwt
from jwt.algorithms import Algorithm, HMACAlgorithm, get_default_algorithms
from jwt.api_jws import PyJWS
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from nexios_auth_di.exceptions import ConfigurationError, MalformedData, TokenError
from nexios_auth_di.strict_json import STRICT_DECODER
from nexios_auth_di.tokens.keys import Key, KeyRing

__all__ = ["Clock", "TokenVerifier"]

Clock = Callable[[], float]
#: ``(signing input, signature) -> valid``, with the key already bound
Check = Callable[[bytes, bytes], bool]
# Compact JWS: three base64url segments (only the payload may be empty) and nothing else
# (RFC 7515 §7.1, §2).
# One regex refuses whitespace, NUL, non-ASCII, padding, JWE's five segments, and more.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")


_DECODER = STRICT_DECODER


#: past any float: larger integers are refused rather than overflowing
_MAX_TIME = 2**1023
_SCAN: Callable[[str, int], tuple[Any, int]] = STRICT_DECODER.scan_once  # type: ignore[attr-defined]
#: distinct header segments remembered (a token's header is nearly always one of a few)
_HEADER_CACHE_SIZE = 32


def _json_object(data: bytes) -> dict[str, Any]:
    """Parse a JSON object, refusing duplicate names and NaN/Infinity anywhere in it.

    The scanner is called directly (what ``decode`` does, minus two whitespace regexes);
    a document it does not consume entirely goes through ``decode`` for the same verdict.
    """
    text = data.decode("utf-8")
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        value, end = None, -1
    if end != len(text):
        value = _DECODER.decode(text)
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


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
#: by ``len % 4``: the padding to add, and the low bits of the last character that a
#: canonical encoding leaves zero (a length of 1 mod 4 encodes no whole byte: -1)
_TAIL = (("", 0), ("", -1), ("==", 0b1111), ("=", 0b11))


def _b64(segment: str) -> bytes:
    """base64url without padding (RFC 7515 §2); the alphabet was checked by ``_COMPACT``.

    Only the canonical encoding is accepted (RFC 4648 §3.5): spare low bits in the last
    character must be zero, so one token has exactly one spelling (no malleability).
    """
    padding, spare = _TAIL[len(segment) & 3]
    if spare:
        if spare < 0 or _VALUE.get(segment[-1], 0) & spare:
            raise MalformedData("non-canonical base64url")
        segment += padding
    try:
        return binascii.a2b_base64(
            segment.encode("ascii").translate(_TO_STANDARD), strict_mode=True
        )
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedData("not base64url") from None


def _audience_ok(aud: Any, audience: str) -> bool:
    """RFC 7519 §4.1.3: ``aud`` is a string or an array of strings that includes us."""
    if type(aud) is str:
        return aud == audience
    return type(aud) is list and all(type(a) is str for a in aud) and audience in aud


def _number(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate (RFC 7519 §2): a finite int or float, or absent. Bools, strings,
    ``null`` (present but not a number, as PyJWT judges it) and integers beyond a
    float's range are refused."""
    if name not in claims:
        return None
    value = claims[name]
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif type(value) is int and -_MAX_TIME < value < _MAX_TIME:
        return float(value)
    raise TokenError("bad_time_claim")


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
        "_headers",
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
        self._cache: OrderedDict[str, tuple[dict[str, Any], float, float | None, str]] = (
            OrderedDict()
        )
        self._generation = key_ring.generation
        self._jws = PyJWS(options={"enforce_minimum_key_length": True})
        self._algorithms: dict[str, Algorithm] = get_default_algorithms()
        self._prepared: dict[str, tuple[Key, Check]] = {}
        #: header segment -> its key, for headers that passed every check (bounded)
        self._headers: dict[str, Key] = {}

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
            self._headers.clear()
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
        key = self._headers.get(segment)
        if key is not None:
            return key  # the same bytes passed every check below, with this ring
        try:
            header = _json_object(_b64(segment))
        except (ValueError, RecursionError):
            raise TokenError("malformed") from None
        if "crit" in header or "b64" in header:
            raise TokenError("unsupported_header")
        key = self._ring.key_for(header)
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()  # many distinct headers: not worth remembering
        self._headers[segment] = key
        return key

    def _check(self, key: Key) -> Check:
        """The signature check for ``key``, prepared once per key, not once per token.

        PyJWT's algorithm objects (whose ``prepare_key`` also refuses PEM material as an
        HMAC secret); for HMAC, a keyed ``hmac`` object copied per token, which skips
        the per-call key schedule and PyJWT's wrappers.
        """
        found = self._prepared.get(key.kid)
        if found is None or found[0] is not key:
            algorithm = self._algorithms[key.algorithm]
            try:
                prepared = algorithm.prepare_key(key.verifying_key)
            except jwt.PyJWTError as exc:
                raise TokenError(_reason(exc)) from None
            if isinstance(algorithm, HMACAlgorithm):
                keyed = hmac.new(prepared, digestmod=algorithm.hash_alg)

                def check(message: bytes, signature: bytes) -> bool:
                    mac = keyed.copy()
                    mac.update(message)
                    return hmac.compare_digest(mac.digest(), signature)

            else:

                def check(message: bytes, signature: bytes) -> bool:
                    return bool(algorithm.verify(message, prepared, signature))

            found = self._prepared[key.kid] = (key, check)
        return found[1]

    def _verify_cold(self, token: str, expected_type: str | None) -> dict[str, Any]:
        # Signature with PyJWT's algorithm objects; the shape, base64 alphabet and header
        # were already checked above, so PyJWT's per-call re-validation is skipped.
        check = self._check(self._precheck(token))
        signing_input, _, signature = token.rpartition(".")
        try:
            valid = check(signing_input.encode("ascii"), _b64(signature))
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
                cache.popitem(last=False)  # FIFO, O(1) (a dict's next(iter()) is not)
            cache[token] = (claims, math.inf if exp is None else exp, nbf, typ)
        return claims

    @property
    def cache_len(self) -> int:
        return len(self._cache)
