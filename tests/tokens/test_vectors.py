"""Public JWS vectors (RFC 7520 cookbook, Wycheproof) judged by ``TokenVerifier``.

The verifier is used in signature-only mode (``verify_signature``): the vectors' payloads
are not JWT claim sets. Each vector's key becomes a one-key ``KeyRing`` through
``Key.from_jwk``, which binds the JWK's ``alg`` and honours ``use``/``key_ops``.

Vectors deliberately judged against their label (see ``DELIBERATE``):
- 346, 350: the JWK says ``alg: PS256`` but the token is PS384. Our keys bind one algorithm
  (RFC 8725 §3.1), so we refuse; the vector expects a verifier that ignores JWK ``alg``.
- 347, 351: the JWK says ``alg: "ES521"``, not a registered name (RFC 7518 §3.1 has ES512);
  the key is refused at load, so nothing verifies with it.
- 367, 370: broken vectors, byte-identical to valid tcId 357 but labelled invalid; we
  accept them exactly as we accept 357.
- 372, 373: broken vectors labelled valid despite an inserted ``?``; base64url has no ``?``
  (RFC 7515 §2), so we refuse them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nexios_auth_di.exceptions import ConfigurationError, TokenError
from nexios_auth_di.tokens import TokenVerifier
from nexios_auth_di.tokens.keys import Key, KeyRing

_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth"}

# tcId -> (our verdict, why it differs from the label)
DELIBERATE: dict[int, tuple[str, str]] = {
    346: ("invalid", "JWK alg PS256 binds the key; token says PS384"),
    350: ("invalid", "JWK alg PS256 binds the key; token says PS384"),
    347: ("invalid", "JWK alg 'ES521' is not a registered algorithm"),
    351: ("invalid", "JWK alg 'ES521' is not a registered algorithm"),
    367: ("valid", "broken vector: identical to valid tcId 357"),
    370: ("valid", "broken vector: identical to valid tcId 357"),
    372: ("invalid", "broken vector: '?' is not base64url"),
    373: ("invalid", "broken vector: '?' is not base64url"),
}


# The vectors ship in the repository (tests/vectors/README.md names sources and licences),
# so the suite never skips them.
VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _verdict(jwk: dict[str, Any], token: str, algorithm: str | None = None) -> str:
    try:
        key = Key.from_jwk(jwk, algorithm=algorithm)
    except ConfigurationError:
        return "invalid"
    verifier = TokenVerifier(KeyRing([key], key.kid), required=(), identity_claims=())
    try:
        verifier.verify_signature(token)
    except TokenError:
        return "invalid"
    return "valid"


def _wycheproof_cases() -> list[Any]:
    data = _load("wycheproof/json_web_signature_test.json")
    cases = []
    for group in data["testGroups"]:
        jwk = group.get("public") or group["private"]
        for test in group["tests"]:
            cases.append(pytest.param(jwk, test, id=f"tc{test['tcId']}-{test['comment']}"))
    return cases


COOKBOOK = [
    "4_1.rsa_v15_signature.json",
    "4_2.rsa-pss_signature.json",
    "4_3.ecdsa_signature.json",
    "4_4.hmac-sha2_integrity_protection.json",
]


@pytest.mark.parametrize("name", COOKBOOK)
def test_rfc7520_cookbook_signature_verifies(name: str) -> None:
    """Each RFC 7520 §4 example verifies with the public half of its key and yields its payload."""
    vector = _load(f"jose-cookbook/{name}")
    jwk = {k: v for k, v in vector["input"]["key"].items() if k not in _PRIVATE_MEMBERS}
    if jwk["kty"] == "oct":
        jwk = vector["input"]["key"]  # a shared secret has no public half
    key = Key.from_jwk(jwk, algorithm=vector["input"]["alg"])
    verifier = TokenVerifier(KeyRing([key], key.kid), required=(), identity_claims=())
    token = vector["output"]["compact"]
    assert verifier.verify_signature(token) == vector["input"]["payload"].encode()
    head, payload, sig = token.split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    with pytest.raises(TokenError):
        verifier.verify_signature(f"{head}.{payload}.{flipped}")


@pytest.mark.parametrize(("jwk", "test"), _wycheproof_cases())
def test_wycheproof_vector_judged(jwk: dict[str, Any], test: dict[str, Any]) -> None:
    """Each Wycheproof JWS vector gets the verdict its label (or DELIBERATE) demands."""
    expected, _why = DELIBERATE.get(test["tcId"], (test["result"], ""))
    assert _verdict(jwk, test["jws"]) == expected


def test_wycheproof_file_is_complete() -> None:
    """The vector file holds all 401 cases, so a truncated copy cannot pass silently."""
    data = _load("wycheproof/json_web_signature_test.json")
    total = sum(len(group["tests"]) for group in data["testGroups"])
    assert total == data["numberOfTests"] == 401
    labelled = {t["tcId"] for g in data["testGroups"] for t in g["tests"]}
    assert set(DELIBERATE) <= labelled
