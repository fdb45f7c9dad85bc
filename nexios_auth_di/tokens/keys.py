"""Signing keys and the key ring that picks one per token.

Why a ring: keys must rotate without logging everyone out, so several verifying keys
live side by side (looked up by the token's ``kid``) while exactly one signs. The ring is
a fixed in-process map: a ``kid`` is only ever a dict key, never a path or URL, and the
``jku``/``x5u``/``jwk``/``x5c`` headers are never fetched or used (RFC 8725 §3.10).

The algorithm of a key is fixed when the key is built; the token header can only *agree*
with it, never choose it (RFC 8725 §2.1, §3.1; PyJWT GHSA-ffqj-6fqr-9h24). Key material is
checked at construction so a weak HMAC secret or a mismatched key type is a start-up
error, not a silent weakness.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from nexios_auth_di.exceptions import ConfigurationError, TokenError

__all__ = ["HMAC_ALGORITHMS", "SUPPORTED_ALGORITHMS", "Key", "KeyRing"]

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_CURVES: Mapping[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | _RSA_ALGORITHMS | frozenset(_EC_CURVES) | {"EdDSA"}
# RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
_HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_RSA_MIN_BITS = 2048
_ALGORITHMS = get_default_algorithms()

_PRIVATE_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
_PUBLIC_TYPES = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)


def _check_asymmetric(kid: str, algorithm: str, public: Any) -> None:
    """The key type must be the one the algorithm names, so no key can be misread."""
    if algorithm in _RSA_ALGORITHMS:
        if not isinstance(public, rsa.RSAPublicKey):
            raise ConfigurationError(f"key {kid!r}: {algorithm} needs an RSA key")
        if public.key_size < _RSA_MIN_BITS:
            raise ConfigurationError(f"key {kid!r}: RSA keys must be at least {_RSA_MIN_BITS} bits")
    elif algorithm in _EC_CURVES:
        curve = _EC_CURVES[algorithm]
        if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(public.curve, curve):
            raise ConfigurationError(f"key {kid!r}: {algorithm} needs a {curve.name} key")
    elif not isinstance(public, ed25519.Ed25519PublicKey):
        raise ConfigurationError(f"key {kid!r}: EdDSA needs an Ed25519 key")


def _load_pem(kid: str, pem: str | bytes, *, private: bool) -> Any:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        if private:
            return serialization.load_pem_private_key(data, password=None)
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        kind = "private" if private else "public"
        raise ConfigurationError(f"key {kid!r}: unreadable {kind} PEM") from exc


@dataclass(frozen=True, slots=True)
class Key:
    """One key: its id, its algorithm, and the material to sign and verify with.

    ``signing_key`` is ``None`` for a verify-only key (a public key from elsewhere).
    Key material is kept out of ``repr`` so it never lands in a log.
    """

    kid: str
    algorithm: str
    signing_key: Any = field(repr=False)
    verifying_key: Any = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kid, str) or not self.kid:
            raise ConfigurationError("a key needs a non-empty string kid")
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            raise ConfigurationError(
                f"key {self.kid!r}: unsupported algorithm {self.algorithm!r}; "
                f"use one of {sorted(SUPPORTED_ALGORITHMS)}"
            )
        if self.algorithm in HMAC_ALGORITHMS:
            self._check_hmac()
            return
        if self.signing_key is not None and not isinstance(self.signing_key, _PRIVATE_TYPES):
            raise ConfigurationError(f"key {self.kid!r}: signing key is not a private key")
        if not isinstance(self.verifying_key, _PUBLIC_TYPES):
            raise ConfigurationError(f"key {self.kid!r}: verifying key is not a public key")
        _check_asymmetric(self.kid, self.algorithm, self.verifying_key)
        if self.signing_key is not None:
            _check_asymmetric(self.kid, self.algorithm, self.signing_key.public_key())

    def _check_hmac(self) -> None:
        secret = self.verifying_key
        if not isinstance(secret, bytes) or self.signing_key != secret:
            raise ConfigurationError(
                f"key {self.kid!r}: an HMAC key signs and verifies with the same bytes"
            )
        need = _HMAC_MIN_BYTES[self.algorithm]
        if len(secret) < need:
            raise ConfigurationError(
                f"key {self.kid!r}: {self.algorithm} secrets must be at least {need} bytes "
                f"(RFC 7518 §3.2); got {len(secret)}. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`"
            )
        try:  # PyJWT refuses PEM/SSH-looking secrets: the HS/RS confusion guard
            _ALGORITHMS[self.algorithm].prepare_key(secret)
        except InvalidKeyError as exc:
            raise ConfigurationError(
                f"key {self.kid!r}: an HMAC secret must not be a PEM or SSH key"
            ) from exc

    # -- constructors --------------------------------------------------------------
    @classmethod
    def hmac(cls, kid: str, secret: str | bytes, algorithm: str = "HS256") -> Key:
        """An HMAC key from a shared secret (str secrets are UTF-8 encoded)."""
        if algorithm not in HMAC_ALGORITHMS:
            raise ConfigurationError(f"key {kid!r}: {algorithm!r} is not an HMAC algorithm")
        if not isinstance(secret, str | bytes):
            raise ConfigurationError(f"key {kid!r}: the secret must be str or bytes")
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        return cls(kid, algorithm, raw, raw)

    @classmethod
    def from_pem(
        cls,
        kid: str,
        algorithm: str,
        *,
        private_key: str | bytes | None = None,
        public_key: str | bytes | None = None,
    ) -> Key:
        """An asymmetric key from PEM text; the public half is derived when omitted."""
        if private_key is None and public_key is None:
            raise ConfigurationError(f"key {kid!r}: give a private_key and/or a public_key")
        signing: Any = None
        if private_key is not None:
            signing = _load_pem(kid, private_key, private=True)
        if public_key is not None:
            verifying = _load_pem(kid, public_key, private=False)
        else:
            verifying = signing.public_key() if hasattr(signing, "public_key") else None
        key = cls(kid, algorithm, signing, verifying)
        if signing is not None and public_key is not None:
            der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            if signing.public_key().public_bytes(*der) != verifying.public_bytes(*der):
                raise ConfigurationError(f"key {kid!r}: public key does not match private key")
        return key

    @classmethod
    def from_jwk(
        cls, jwk: Mapping[str, Any], *, kid: str | None = None, algorithm: str | None = None
    ) -> Key:
        """A key from a JWK (RFC 7517), honouring its ``use`` and ``key_ops`` members.

        PyJWK ignores both, so a key marked for encryption would verify signatures;
        we refuse it instead (RFC 7517 §4.2-4.3).
        """
        use, ops = jwk.get("use"), jwk.get("key_ops")
        name = kid or str(jwk.get("kid") or "jwk")
        if use is not None and use != "sig":
            raise ConfigurationError(f"key {name!r}: JWK use is {use!r}, not 'sig'")
        if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
            raise ConfigurationError(f"key {name!r}: JWK key_ops does not allow 'verify'")
        jwk_alg = jwk.get("alg")
        alg = algorithm or jwk_alg
        if not isinstance(alg, str) or alg not in SUPPORTED_ALGORITHMS:
            raise ConfigurationError(f"key {name!r}: unsupported JWK algorithm {alg!r}")
        if jwk_alg is not None and jwk_alg != alg:
            raise ConfigurationError(f"key {name!r}: JWK alg {jwk_alg!r} is not {alg!r}")
        try:
            material = _ALGORITHMS[alg].from_jwk(json.dumps(dict(jwk)))
        except (InvalidKeyError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"key {name!r}: unreadable JWK") from exc
        if alg in HMAC_ALGORITHMS:
            return cls(name, alg, material, material)
        if isinstance(material, _PRIVATE_TYPES):
            return cls(name, alg, material, material.public_key())
        return cls(name, alg, None, material)

    @classmethod
    def generate(cls, kid: str, algorithm: str = "HS256") -> Key:
        """A fresh random key, for development, tests and rotation scripts."""
        signing: Any
        if algorithm in HMAC_ALGORITHMS:
            return cls.hmac(kid, secrets.token_bytes(_HMAC_MIN_BYTES[algorithm]), algorithm)
        if algorithm in _RSA_ALGORITHMS:
            signing = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_MIN_BITS)
        elif algorithm in _EC_CURVES:
            signing = ec.generate_private_key(_EC_CURVES[algorithm]())
        elif algorithm == "EdDSA":
            signing = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ConfigurationError(f"key {kid!r}: unsupported algorithm {algorithm!r}")
        return cls(kid, algorithm, signing, signing.public_key())

    @property
    def can_sign(self) -> bool:
        return self.signing_key is not None


def _key_from_entry(entry: Mapping[str, Any]) -> Key:
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ConfigurationError("every entry of 'keys' needs a 'kid'")
    alg = entry.get("algorithm", "HS256")
    if "jwk" in entry:
        return Key.from_jwk(entry["jwk"], kid=kid, algorithm=entry.get("algorithm"))
    if "secret" in entry:
        return Key.hmac(kid, entry["secret"], alg)
    private, public = entry.get("private_key"), entry.get("public_key")
    if entry.get("private_key_file"):  # a mounted secret file: PEM never in YAML or env
        private = _read_pem(kid, str(entry["private_key_file"]))
    if entry.get("public_key_file"):
        public = _read_pem(kid, str(entry["public_key_file"]))
    return Key.from_pem(kid, alg, private_key=private, public_key=public)


def _read_pem(kid: str, path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigurationError(
            f"key {kid!r}: cannot read {path!r} ({exc.strerror or exc}); make a pair with "
            "`nexios-auth gen-secret --kind ed25519 --out DIR`"
        ) from None


class KeyRing:
    """A fixed map ``kid -> Key`` plus the one active signing kid.

    Every change bumps ``generation`` so caches of verified tokens know to drop what
    they hold (a retired key must stop verifying at once). Changes swap in a new dict
    rather than mutating, so a reader never sees a half-made ring.
    """

    __slots__ = ("_active", "_generation", "_keys")

    def __init__(self, keys: Iterable[Key], active_kid: str) -> None:
        table: dict[str, Key] = {}
        for key in keys:
            if not isinstance(key, Key):
                raise ConfigurationError("KeyRing holds Key objects only")
            if key.kid in table:
                raise ConfigurationError(f"duplicate kid {key.kid!r}")
            table[key.kid] = key
        self._keys = table
        self._generation = 0
        self._active = self._signing_key(active_kid)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_secret(
        cls, secret: str | bytes, algorithm: str = "HS256", kid: str = "default"
    ) -> KeyRing:
        return cls([Key.hmac(kid, secret, algorithm)], kid)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KeyRing:
        """Build from ``{"secret_key", "algorithm"}`` and/or ``{"keys": [...], "active_kid"}``.

        With both, the single secret joins the list under ``kid`` (default ``"default"``);
        the active kid defaults to the single secret's, else the first listed key.
        """
        keys: list[Key] = []
        if config.get("secret_key"):
            keys.append(
                Key.hmac(
                    str(config.get("kid") or "default"),
                    config["secret_key"],
                    str(config.get("algorithm") or "HS256"),
                )
            )
        for entry in config.get("keys") or ():
            if not isinstance(entry, Mapping):
                raise ConfigurationError("'keys' must be a list of mappings")
            keys.append(_key_from_entry(entry))
        if not keys:
            raise ConfigurationError("JWT config needs 'secret_key' or a non-empty 'keys' list")
        active = config.get("active_kid") or keys[0].kid
        return cls(keys, str(active))

    # -- reading --------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    @property
    def active(self) -> Key:
        return self._active

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def get(self, kid: str) -> Key | None:
        return self._keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def key_for(self, header: Mapping[str, Any]) -> Key:
        """The key that must verify a token with this (already parsed) header.

        A ``kid`` must name a key of the ring; no ``kid`` means the active key. The
        header's ``alg`` must equal the key's, so the token never picks the algorithm.
        """
        if "kid" not in header:
            key = self._active
        elif type(kid := header["kid"]) is not str:
            raise TokenError("bad_kid")  # null, numbers, lists: never coerced
        else:
            found = self._keys.get(kid)
            if found is None:
                raise TokenError("unknown_kid")
            key = found
        if header.get("alg") != key.algorithm:
            raise TokenError("bad_algorithm")
        return key

    # -- rotation -------------------------------------------------------------------
    def add(self, key: Key) -> None:
        """Add a key (verify-only until activated)."""
        if key.kid in self._keys:
            raise ConfigurationError(f"duplicate kid {key.kid!r}")
        self._keys = {**self._keys, key.kid: key}
        self._generation += 1

    def activate(self, kid: str) -> None:
        """Sign new tokens with ``kid``; older keys keep verifying until retired.

        A verify-only key may be active (a resource server holding just a public key);
        ``TokenService`` refuses such a ring when it has to sign.
        """
        self._active = self._signing_key(kid)
        self._generation += 1

    def retire(self, kid: str) -> None:
        """Stop accepting tokens signed with ``kid``. The active key cannot be retired."""
        if kid not in self._keys:
            raise ConfigurationError(f"unknown kid {kid!r}")
        if kid == self._active.kid:
            raise ConfigurationError("activate another key before retiring the active one")
        self._keys = {k: v for k, v in self._keys.items() if k != kid}
        self._generation += 1

    def _signing_key(self, kid: str) -> Key:
        key = self._keys.get(kid)
        if key is None:
            raise ConfigurationError(f"active kid {kid!r} is not in the ring")
        return key
