"""KeyRing and Key: construction rules, config loading, kid lookup, rotation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from nexios_auth_di.exceptions import ConfigurationError, TokenError
from nexios_auth_di.tokens.keys import Key, KeyRing


def _pem(private: object, public: bool = False) -> str:
    if public:
        return (
            private.public_key()
            .public_bytes(  # type: ignore[attr-defined,no-any-return]
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
    return private.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(("alg", "size"), [("HS256", 31), ("HS384", 47), ("HS512", 63)])
def test_short_hmac_secret_refused(alg: str, size: int) -> None:
    """HMAC secrets shorter than RFC 7518 §3.2 demands fail at construction, secret unshown."""
    secret = "s" * size
    with pytest.raises(ConfigurationError) as info:
        Key.hmac("k", secret, alg)
    assert secret not in str(info.value)
    Key.hmac("k", "s" * (size + 1), alg)


def test_pem_as_hmac_secret_refused() -> None:
    """A public key PEM cannot be used as an HMAC secret (HS/RS confusion guard)."""
    pem = _pem(ec.generate_private_key(ec.SECP256R1()), public=True)
    with pytest.raises(ConfigurationError):
        Key.hmac("k", pem)


def test_key_repr_hides_material() -> None:
    """A key's repr never contains the secret, so logging a ring leaks nothing."""
    secret = "x" * 40
    assert secret not in repr(Key.hmac("k", secret))


@pytest.mark.parametrize(
    ("alg", "private"),
    [
        ("RS256", lambda: ec.generate_private_key(ec.SECP256R1())),
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP384R1())),
        ("EdDSA", lambda: ec.generate_private_key(ec.SECP256R1())),
    ],
)
def test_asymmetric_key_type_must_match_alg(alg: str, private: object) -> None:
    """Wrong key type, small RSA or the wrong curve is a setup error."""
    key = private()  # type: ignore[operator]
    with pytest.raises(ConfigurationError):
        Key(alg, alg, key, key.public_key())


def test_unsupported_alg_refused() -> None:
    """Unknown algorithms (and 'none') cannot be configured."""
    for alg in ("none", "HS1", "ES521"):
        with pytest.raises(ConfigurationError):
            Key("k", alg, b"x" * 64, b"x" * 64)


def test_from_pem_derives_public_and_checks_pair() -> None:
    """A PEM private key yields its public half; a mismatched pair is refused."""
    one = ec.generate_private_key(ec.SECP256R1())
    two = ec.generate_private_key(ec.SECP256R1())
    key = Key.from_pem("e", "ES256", private_key=_pem(one))
    assert key.can_sign
    verify_only = Key.from_pem("e", "ES256", public_key=_pem(one, public=True))
    assert not verify_only.can_sign
    with pytest.raises(ConfigurationError):
        Key.from_pem("e", "ES256", private_key=_pem(one), public_key=_pem(two, public=True))
    with pytest.raises(ConfigurationError):
        Key.from_pem("e", "ES256", private_key="not a pem")


def test_from_config_mixed_keys() -> None:
    """Config with a secret_key and a keys list builds one ring with the chosen active kid."""
    private = ec.generate_private_key(ec.SECP256R1())
    ring = KeyRing.from_config(
        {
            "secret_key": "a" * 32,
            "keys": [
                {"kid": "k1", "algorithm": "ES256", "private_key": _pem(private)},
                {"kid": "old", "algorithm": "HS256", "secret": "b" * 32},
            ],
            "active_kid": "k1",
        }
    )
    assert set(ring.kids) == {"default", "k1", "old"}
    assert ring.active.kid == "k1"
    assert KeyRing.from_config({"secret_key": "c" * 48, "algorithm": "HS384"}).active.algorithm == (
        "HS384"
    )
    with pytest.raises(ConfigurationError):
        KeyRing.from_config({})
    with pytest.raises(ConfigurationError):
        KeyRing.from_config({"secret_key": "c" * 32, "active_kid": "missing"})


def test_key_for_rules() -> None:
    """kid is a plain map lookup, absent kid means the active key, alg must match the key."""
    ring = KeyRing([Key.hmac("a", "a" * 32), Key.generate("r", "RS256")], "a")
    assert ring.key_for({"alg": "HS256"}).kid == "a"
    assert ring.key_for({"alg": "RS256", "kid": "r"}).kid == "r"
    for header, reason in [
        ({"alg": "HS256", "kid": "../a"}, "unknown_kid"),
        ({"alg": "HS256", "kid": None}, "bad_kid"),
        ({"alg": "HS256", "kid": "r"}, "bad_algorithm"),
        ({"alg": "HS512"}, "bad_algorithm"),
        ({"kid": "a"}, "bad_algorithm"),
    ]:
        with pytest.raises(TokenError) as info:
            ring.key_for(header)
        assert info.value.reason == reason


def test_rotation_bumps_generation() -> None:
    """add/activate/retire each bump generation; the active key cannot be retired."""
    ring = KeyRing.from_secret("a" * 32)
    seen = [ring.generation]
    ring.add(Key.hmac("new", "n" * 32))
    seen.append(ring.generation)
    ring.activate("new")
    seen.append(ring.generation)
    with pytest.raises(ConfigurationError):
        ring.retire("new")
    ring.retire("default")
    seen.append(ring.generation)
    assert seen == sorted(set(seen))
    assert len(seen) == 4
    assert "default" not in ring
    with pytest.raises(ConfigurationError):
        ring.add(Key.hmac("new", "z" * 32))
    with pytest.raises(ConfigurationError):
        ring.activate("nope")


@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS256", "PS256", "ES256", "ES384", "EdDSA"])
def test_generate_every_algorithm(alg: str) -> None:
    """Key.generate makes a valid signing key for every supported algorithm."""
    key = Key.generate("g", alg)
    assert key.algorithm == alg
    assert key.can_sign
