"""Forged, malformed and replayed tokens as data rows, each naming the rule it covers.

Reuse outside this directory (the HTTP and container suites do):

    kit = AttackKit.create("a-secret-of-at-least-32-bytes....", issuer="iss", audience="aud")
    for case in ATTACKS:
        if not case.applies_to(kit):
            continue
        token = case.make(kit)              # str (or bytes for non-text rows)
        if case.setup:                      # stateful rows (revoke, spend) need the service
            await case.setup(kit, token)
        # present `token` as an access token (case.use == "access") or to the refresh
        # endpoint (case.use == "refresh"); it must be refused (401), never accepted.

``AttackKit.create`` builds a ``KeyRing`` (the HMAC secret under ``kid`` as the active key,
plus honest RS256/ES256/EdDSA keys that never sign access tokens) and a ``TokenService``
over memory stores with a frozen ``FakeClock``. A server configured with only the secret
still refuses every row; rows whose meaning depends on a configured audience/issuer or on
the service's claim profile say so in ``requires``. ``make`` needs only the kit.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from nexios_auth_di.exceptions import TokenError, TokenReused, TokenRevoked
from nexios_auth_di.stores.memory import MemoryRefreshFamilyStore, MemoryRevocationStore
from nexios_auth_di.tokens import TokenService
from nexios_auth_di.tokens.keys import Key, KeyRing
from support.clock import EPOCH, FakeClock

DROP = object()  # claims(...) / header(...) value meaning "leave this member out"
_ALGS = get_default_algorithms()


@functools.cache
def _asymmetric_keys() -> dict[str, Any]:
    """Generated once per process: RSA generation is slow."""
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "ed": ed25519.Ed25519PrivateKey.generate(),
        "attacker_rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "attacker_ec": ec.generate_private_key(ec.SECP256R1()),
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass
class AttackKit:
    """Honest keys and config plus helpers to build any token, signed or not."""

    secret: str
    service: TokenService
    clock: FakeClock
    kid: str
    issuer: str | None
    audience: str | None
    keys: dict[str, Any] = field(repr=False)

    @classmethod
    def create(
        cls,
        secret: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        kid: str = "default",
        access_ttl: float = 900,
        refresh_ttl: float = 1_209_600,
        leeway: float = 0,
        now: float = EPOCH,
    ) -> AttackKit:
        keys = _asymmetric_keys()
        ring = KeyRing(
            [
                Key.hmac(kid, secret),
                Key("rsa-1", "RS256", keys["rsa"], keys["rsa"].public_key()),
                Key("ec-1", "ES256", keys["ec"], keys["ec"].public_key()),
                Key("ed-1", "EdDSA", keys["ed"], keys["ed"].public_key()),
            ],
            kid,
        )
        clock = FakeClock(now)
        service = TokenService(
            ring,
            revocations=MemoryRevocationStore(clock),
            families=MemoryRefreshFamilyStore(clock),
            issuer=issuer,
            audience=audience,
            access_ttl=access_ttl,
            refresh_ttl=refresh_ttl,
            leeway=leeway,
            clock=clock,
        )
        return cls(secret, service, clock, kid, issuer, audience, keys)

    # -- honest parts --------------------------------------------------------------
    def header(self, **over: Any) -> dict[str, Any]:
        return _apply({"alg": "HS256", "typ": "JWT", "kid": self.kid}, over)

    def claims(self, **over: Any) -> dict[str, Any]:
        now = self.clock()
        base: dict[str, Any] = {
            "sub": "alice",
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
            "typ": "access",
        }
        if self.issuer is not None:
            base["iss"] = self.issuer
        if self.audience is not None:
            base["aud"] = self.audience
        return _apply(base, over)

    def honest(self, **claim_over: Any) -> str:
        """A token the service must accept (unless ``claim_over`` breaks it)."""
        return self.sign(self.header(), self.claims(**claim_over))

    def pem(self, name: str) -> bytes:
        """Public key of ``keys[name]`` as PEM (the HS/RS confusion secret)."""
        return bytes(
            self.keys[name]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def public_jwk(self, name: str) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(_ALGS["RS256"].to_jwk(self.keys[name].public_key()))
        return jwk

    # -- building tokens ---------------------------------------------------------------
    def sign(
        self,
        header: dict[str, Any] | bytes,
        payload: dict[str, Any] | bytes,
        key: Any = None,
        alg: str | None = None,
    ) -> str:
        """Compact token from raw parts, signed with ``key`` (default: the honest secret)
        using ``alg`` (default: the header's ``alg``, which need not be real)."""
        h = header if isinstance(header, bytes) else dumps(header)
        p = payload if isinstance(payload, bytes) else dumps(payload)
        signing_input = f"{b64(h)}.{b64(p)}".encode()
        if alg is None:
            alg = header.get("alg") if isinstance(header, dict) else "HS256"
        sig = self.raw_signature(signing_input, key, alg if isinstance(alg, str) else "HS256")
        return f"{signing_input.decode()}.{b64(sig)}"

    def raw_signature(self, signing_input: bytes, key: Any, alg: str) -> bytes:
        key = self.secret.encode() if key is None else key
        if isinstance(key, bytes | str):
            digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
            raw = key.encode() if isinstance(key, str) else key
            return hmac.new(raw, signing_input, digest).digest()
        return bytes(_ALGS[alg].sign(signing_input, key))

    @staticmethod
    def join(*segments: str) -> str:
        return ".".join(segments)

    def parts(self, token: str) -> list[str]:
        return token.split(".")


def _apply(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for name, value in over.items():
        if value is DROP:
            out.pop(name, None)
        else:
            out[name] = value
    return out


Make = Callable[[AttackKit], "str | bytes"]
Setup = Callable[[AttackKit, str], Awaitable[None]]


@dataclass(frozen=True)
class AttackCase:
    """One attack: ``make`` builds the token; it must be refused with ``expect``.

    ``reasons``: acceptable ``TokenError.reason`` codes (empty: any). ``use``: present as
    an access token or to ``refresh()``. ``setup``: async step after ``make`` (revoke,
    spend). ``requires``: what the target must be configured with for the row to mean
    anything ("audience", "issuer", "service": our claim profile and stores).
    """

    id: str
    rule: str
    make: Make
    reasons: tuple[str, ...] = ()
    expect: type[TokenError] = TokenError
    use: str = "access"
    setup: Setup | None = None
    requires: frozenset[str] = frozenset()

    def applies_to(self, kit: AttackKit) -> bool:
        return ("audience" not in self.requires or kit.audience is not None) and (
            "issuer" not in self.requires or kit.issuer is not None
        )


MALFORMED = ("malformed",)
BAD_ALG = ("bad_algorithm",)
BAD_SIG = ("bad_signature",)
ALG_OR_MALFORMED = ("bad_algorithm", "malformed")
SERVICE = frozenset({"service"})
R8725_21 = "RFC 8725 §2.1/§3.1: algorithm comes from the key, never the header"
CONFUSION = "GHSA-ffqj-6fqr-9h24 (CVE-2022-29217) HS/RS key confusion; RFC 8725 §3.1"
HEADER_FETCH = "RFC 8725 §3.10 / RFC 7515 §4.1.2-4.1.6: jku/jwk/x5u/x5c never trusted"
KID_RULE = "RFC 7515 §4.1.4 + OWASP JWT cheat sheet: kid is a map key, not a path/query"
SHAPE = "RFC 7515 §7.1 / RFC 7519 §7.2: compact form is three base64url segments"
SIZE = "ASVS 5.0 V9.1 / docs/design.md §5: tokens over 8 KiB refused before decoding"
TIME = "RFC 7519 §4.1.4-4.1.6 NumericDate"


def _none(alg: str, signed: bool) -> Make:
    def make(k: AttackKit) -> str:
        token = k.sign(k.header(alg=alg), k.claims(), alg="HS256")
        return token if signed else token.rsplit(".", 1)[0] + "."

    return make


def _claims(**over: Any) -> Make:
    return lambda k: k.honest(**over)


def _header(**over: Any) -> Make:
    return lambda k: k.sign(k.header(**over), k.claims(), alg="HS256")


def _raw_payload(body: bytes) -> Make:
    return lambda k: k.sign(k.header(), body)


def _raw_header(body: bytes) -> Make:
    return lambda k: k.sign(body, k.claims(), alg="HS256")


def _replace(index: int, value: str) -> Make:
    def make(k: AttackKit) -> str:
        parts = k.parts(k.honest())
        parts[index] = value
        return k.join(*parts)

    return make


def _exact_size(total: int) -> Make:
    def make(k: AttackKit) -> str:
        pad = 0
        token = k.honest(pad="")
        while len(token) < total:
            pad += max(1, (total - len(token)) * 3 // 4)
            token = k.honest(pad="x" * pad)
        while len(token) > total:
            pad -= 1
            token = k.honest(pad="x" * pad)
        return token if len(token) == total else token + "A" * (total - len(token))

    return make


def _refresh_token(k: AttackKit) -> str:
    return k.service.create_refresh_token("alice")


async def _revoke(k: AttackKit, token: str) -> None:
    await k.service.revoke(token)


async def _spend(k: AttackKit, token: str) -> None:
    await k.service.refresh(token)


async def _revoke_all(k: AttackKit, token: str) -> None:
    k.clock.advance(1)
    await k.service.revoke_all("alice")


def _attacker_signed(**header_over: Any) -> Make:
    def make(k: AttackKit) -> str:
        header = k.header(alg="RS256", kid="rsa-1")
        header.update({n: v for n, v in header_over.items() if v is not DROP})
        for n, v in header_over.items():
            if v is DROP:
                header.pop(n, None)
        return k.sign(header, k.claims(), key=k.keys["attacker_rsa"])

    return make


def _with_jwk(k: AttackKit) -> str:
    header = k.header(alg="RS256", kid="rsa-1", jwk=k.public_jwk("attacker_rsa"))
    return k.sign(header, k.claims(), key=k.keys["attacker_rsa"])


def _with_jwk_no_kid(k: AttackKit) -> str:
    header = k.header(alg="RS256", kid=DROP, jwk=k.public_jwk("attacker_rsa"))
    return k.sign(header, k.claims(), key=k.keys["attacker_rsa"])


def _ssh_ed25519(k: AttackKit) -> bytes:
    return bytes(
        k.keys["ed"]
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )


def _nested(depth: int) -> bytes:
    return b'{"sub":"alice","x":' + b"[" * depth + b"]" * depth + b"}"


def _kid(kid: str) -> Make:
    return lambda k: k.sign(k.header(kid=kid), k.claims(), key=b"")


def _other_signature(k: AttackKit) -> str:
    forged = k.parts(k.honest(sub="admin"))
    honest = k.parts(k.honest())
    return k.join(forged[0], forged[1], honest[2])


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _noncanonical_signature(k: AttackKit) -> str:
    """Flip an unused low bit of the signature's last base64url character: the bytes
    decode the same, the string differs (HS256: 32 bytes -> 43 chars, 2 spare bits)."""
    head, payload, sig = k.parts(k.honest())
    last = _B64URL[_B64URL.index(sig[-1]) ^ 1]
    return k.join(head, payload, sig[:-1] + last)


def _dup_payload(k: AttackKit) -> str:
    body = dumps(k.claims())[:-1] + b',"sub":"admin"}'
    return k.sign(k.header(), body)


ATTACKS: list[AttackCase] = [
    # -- alg none ---------------------------------------------------------------------
    *[
        AttackCase(
            f"alg-{alg}-{'signed' if signed else 'unsigned'}",
            R8725_21,
            _none(alg, signed),
            ALG_OR_MALFORMED,
        )
        for alg in ("none", "None", "NONE", "nOnE")
        for signed in (False, True)
    ],
    AttackCase(
        "alg-none-no-kid",
        R8725_21,
        lambda k: (
            k.sign(k.header(alg="none", kid=DROP), k.claims(), alg="HS256").rsplit(".", 1)[0] + "."
        ),
        ALG_OR_MALFORMED,
    ),
    AttackCase("alg-missing", R8725_21, _header(alg=DROP), BAD_ALG),
    AttackCase("alg-null", R8725_21, _header(alg=None), BAD_ALG),
    AttackCase("alg-list", R8725_21, _header(alg=["HS256"]), BAD_ALG),
    AttackCase("alg-empty", R8725_21, _header(alg=""), BAD_ALG),
    # -- key confusion --------------------------------------------------------------
    AttackCase(
        "hs256-rsa-pem-kid-rsa",
        CONFUSION,
        lambda k: k.sign(k.header(kid="rsa-1"), k.claims(), key=k.pem("rsa")),
        BAD_ALG,
    ),
    AttackCase(
        "hs256-rsa-pem-no-kid",
        CONFUSION,
        lambda k: k.sign(k.header(kid=DROP), k.claims(), key=k.pem("rsa")),
        BAD_SIG,
    ),
    AttackCase(
        "hs256-rsa-pem-active-kid",
        CONFUSION,
        lambda k: k.sign(k.header(), k.claims(), key=k.pem("rsa")),
        BAD_SIG,
    ),
    AttackCase(
        "hs256-ec-pem-kid-ec",
        CONFUSION,
        lambda k: k.sign(k.header(kid="ec-1"), k.claims(), key=k.pem("ec")),
        BAD_ALG,
    ),
    AttackCase(
        "hs256-ssh-ed25519-kid-ed",
        "CVE-2022-29217 (ssh-ed25519 public key as HMAC secret)",
        lambda k: k.sign(k.header(kid="ed-1"), k.claims(), key=_ssh_ed25519(k)),
        BAD_ALG,
    ),
    AttackCase(
        "hs256-ssh-ed25519-no-kid",
        "CVE-2022-29217 (ssh-ed25519 public key as HMAC secret)",
        lambda k: k.sign(k.header(kid=DROP), k.claims(), key=_ssh_ed25519(k)),
        BAD_SIG,
    ),
    # -- attacker keys and fetched keys -------------------------------------------------
    AttackCase(
        "attacker-rsa-kid-rsa",
        "RFC 7515 §5.2 signature must verify with our key",
        _attacker_signed(),
        BAD_SIG,
    ),
    AttackCase("attacker-rsa-no-kid", R8725_21, _attacker_signed(kid=DROP), BAD_ALG),
    AttackCase(
        "attacker-rsa-embedded-jwk",
        "CVE-2018-0114 embedded jwk; " + HEADER_FETCH,
        _with_jwk,
        BAD_SIG,
    ),
    AttackCase(
        "attacker-rsa-embedded-jwk-no-kid",
        "CVE-2018-0114 embedded jwk; " + HEADER_FETCH,
        _with_jwk_no_kid,
        BAD_ALG,
    ),
    AttackCase(
        "jku-elsewhere",
        HEADER_FETCH,
        _attacker_signed(jku="https://evil.example/jwks.json"),
        BAD_SIG,
    ),
    AttackCase(
        "x5u-elsewhere",
        HEADER_FETCH,
        _attacker_signed(x5u="https://evil.example/cert.pem"),
        BAD_SIG,
    ),
    AttackCase(
        "x5c-attacker-chain", HEADER_FETCH, _attacker_signed(x5c=["MIIBattackercert"]), BAD_SIG
    ),
    AttackCase(
        "jku-hs-wrong-secret",
        HEADER_FETCH,
        lambda k: k.sign(k.header(jku="https://evil.example/k"), k.claims(), key=b"k" * 32),
        BAD_SIG,
    ),
    AttackCase(
        "attacker-es256-kid-ec",
        "CVE-2022-21449-style: only our EC key verifies",
        lambda k: k.sign(k.header(alg="ES256", kid="ec-1"), k.claims(), key=k.keys["attacker_ec"]),
        BAD_SIG,
    ),
    AttackCase(
        "es256-zero-signature",
        "CVE-2022-21449 psychic signature (r=s=0)",
        lambda k: (
            k.sign(k.header(alg="ES256", kid="ec-1"), k.claims()).rsplit(".", 1)[0]
            + "."
            + b64(bytes(64))
        ),
        BAD_SIG,
    ),
    # -- kid ------------------------------------------------------------------------
    *[
        AttackCase(
            f"kid-{name}",
            KID_RULE,
            _kid(kid),
            ("unknown_kid",),
        )
        for name, kid in [
            ("traversal-dev-null", "../../dev/null"),
            ("abs-etc-passwd", "/etc/passwd"),
            ("sql-or", "' OR '1'='1"),
            ("sql-union", "x' UNION SELECT 'secret' --"),
            ("url", "https://evil.example/key"),
            ("unknown", "nope"),
            ("nul", "default\x00"),
            ("case", "DEFAULT"),
        ]
    ],
    AttackCase("kid-int", KID_RULE, _header(kid=0), ("bad_kid",)),
    AttackCase("kid-null", KID_RULE, _header(kid=None), ("bad_kid",)),
    AttackCase("kid-list", KID_RULE, _header(kid=["default"]), ("bad_kid",)),
    # -- wrong key / disallowed alg --------------------------------------------------
    AttackCase(
        "wrong-secret",
        "RFC 7515 §5.2",
        lambda k: k.sign(k.header(), k.claims(), key=secrets.token_bytes(32)),
        BAD_SIG,
    ),
    AttackCase("hs384-on-hs256-key", R8725_21, _header(alg="HS384"), BAD_ALG),
    AttackCase("hs512-on-hs256-key", R8725_21, _header(alg="HS512"), BAD_ALG),
    AttackCase(
        "rs256-on-hs256-key",
        R8725_21,
        lambda k: k.sign(k.header(alg="RS256"), k.claims(), key=k.keys["attacker_rsa"]),
        BAD_ALG,
    ),
    AttackCase(
        "es256-on-hs256-key",
        R8725_21,
        lambda k: k.sign(k.header(alg="ES256"), k.claims(), key=k.keys["attacker_ec"]),
        BAD_ALG,
    ),
    AttackCase(
        "ps256-on-rs256-key",
        R8725_21,
        lambda k: k.sign(k.header(alg="PS256", kid="rsa-1"), k.claims(), key=k.keys["rsa"]),
        BAD_ALG,
    ),
    AttackCase(
        "rs256-on-es256-key",
        R8725_21,
        lambda k: k.sign(k.header(alg="RS256", kid="ec-1"), k.claims(), key=k.keys["rsa"]),
        BAD_ALG,
    ),
    AttackCase(
        "eddsa-on-hs256-key",
        R8725_21,
        lambda k: k.sign(k.header(alg="EdDSA"), k.claims(), key=k.keys["ed"]),
        BAD_ALG,
    ),
    # -- time claims ------------------------------------------------------------------
    AttackCase("expired", TIME + " exp", lambda k: k.honest(exp=k.clock() - 1), ("expired",)),
    AttackCase(
        "expired-exactly-now",
        TIME + " exp (on or after exp)",
        lambda k: k.honest(exp=k.clock()),
        ("expired",),
    ),
    AttackCase(
        "exp-missing",
        "docs/design.md §5 exp required; ASVS 5.0 V9.2.1",
        _claims(exp=DROP),
        ("missing_claim",),
    ),
    AttackCase("exp-null", "docs/design.md §5 exp required", _claims(exp=None), ("missing_claim",)),
    AttackCase(
        "exp-string", TIME + " (numbers only)", _claims(exp="9999999999"), ("bad_time_claim",)
    ),
    AttackCase("exp-bool", TIME + " (numbers only)", _claims(exp=True), ("bad_time_claim",)),
    AttackCase(
        "exp-overflow-inf",
        TIME + " (finite)",
        lambda k: k.sign(k.header(), dumps(k.claims(exp=0)).replace(b'"exp":0', b'"exp":1e400')),
        ("bad_time_claim",),
    ),
    AttackCase(
        "exp-nan",
        "RFC 8259 §6: NaN is not JSON",
        lambda k: k.sign(k.header(), dumps(k.claims(exp=0)).replace(b'"exp":0', b'"exp":NaN')),
        MALFORMED,
    ),
    AttackCase(
        "nbf-future", TIME + " nbf", lambda k: k.honest(nbf=k.clock() + 60), ("not_yet_valid",)
    ),
    AttackCase("nbf-string", TIME + " nbf", _claims(nbf="0"), ("bad_time_claim",)),
    AttackCase(
        "iat-future",
        TIME + " iat; ASVS 5.0 V9.2.1",
        lambda k: k.honest(iat=k.clock() + 60),
        ("not_yet_valid",),
    ),
    AttackCase(
        "iat-missing", "docs/design.md §5 iat required", _claims(iat=DROP), ("missing_claim",)
    ),
    AttackCase("iat-string", TIME + " iat", _claims(iat="1700000000"), ("bad_time_claim",)),
    # -- audience / issuer ---------------------------------------------------------------
    AttackCase(
        "aud-wrong",
        "RFC 7519 §4.1.3; ASVS 5.0 V9.2.3",
        _claims(aud="someone-else"),
        ("bad_audience",),
        requires=frozenset({"audience"}),
    ),
    AttackCase(
        "aud-missing",
        "RFC 7519 §4.1.3; RFC 8725 §3.9",
        _claims(aud=DROP),
        ("bad_audience",),
        requires=frozenset({"audience"}),
    ),
    AttackCase(
        "aud-list-without-ours",
        "RFC 7519 §4.1.3",
        _claims(aud=["a", "b"]),
        ("bad_audience",),
        requires=frozenset({"audience"}),
    ),
    AttackCase(
        "aud-object",
        "RFC 7519 §4.1.3",
        _claims(aud={"x": 1}),
        ("bad_audience",),
        requires=frozenset({"audience"}),
    ),
    AttackCase(
        "iss-wrong",
        "RFC 7519 §4.1.1; RFC 8725 §3.8",
        _claims(iss="https://evil.example"),
        ("bad_issuer",),
        requires=frozenset({"issuer"}),
    ),
    AttackCase(
        "iss-missing",
        "RFC 7519 §4.1.1; RFC 8725 §3.8",
        _claims(iss=DROP),
        ("bad_issuer",),
        requires=frozenset({"issuer"}),
    ),
    AttackCase(
        "iss-list",
        "RFC 7519 §4.1.1 (StringOrURI)",
        _claims(iss=["x"]),
        ("bad_issuer",),
        requires=frozenset({"issuer"}),
    ),
    # -- tampering --------------------------------------------------------------------
    AttackCase(
        "tampered-header",
        "RFC 7515 §5.2 (header is signed)",
        lambda k: k.join(b64(dumps(k.header(typ="at+jwt"))), *k.parts(k.honest())[1:]),
        BAD_SIG,
    ),
    AttackCase(
        "tampered-payload",
        "RFC 7515 §5.2 (payload is signed)",
        lambda k: k.join(
            k.parts(k.honest())[0], b64(dumps(k.claims(sub="admin"))), k.parts(k.honest())[2]
        ),
        BAD_SIG,
    ),
    AttackCase(
        "signature-stripped",
        "RFC 8725 §3.1 / CVE-2015-9235",
        lambda k: k.honest().rsplit(".", 1)[0] + ".",
        MALFORMED,
    ),
    AttackCase("signature-from-other-token", "RFC 7515 §5.2", _other_signature, BAD_SIG),
    AttackCase(
        "signature-noncanonical-base64",
        "RFC 4648 §3.5 canonical encoding (token malleability; PyJWT GHSA-hxm8-2xgr-2p9m)",
        _noncanonical_signature,
        MALFORMED,
    ),
    AttackCase(
        "signature-truncated",
        "RFC 7515 §5.2",
        lambda k: k.honest()[:-4],
        ("bad_signature", "malformed"),
    ),
    AttackCase(
        "duplicate-claim", "RFC 7519 §4 duplicate claim names: reject", _dup_payload, MALFORMED
    ),
    AttackCase(
        "duplicate-header-alg",
        "RFC 7515 §5.2 step 4 duplicate names refused",
        _raw_header(b'{"alg":"none","alg":"HS256","kid":"default"}'),
        MALFORMED,
    ),
    AttackCase("header-nan", "RFC 8259 §6", _raw_header(b'{"alg":"HS256","x":NaN}'), MALFORMED),
    AttackCase(
        "payload-deep-nesting",
        "CWE-674 uncontrolled recursion",
        _raw_payload(_nested(2500)),
        MALFORMED,
    ),
    # -- shape ------------------------------------------------------------------------
    AttackCase("two-segments", SHAPE, lambda k: k.honest().rsplit(".", 1)[0], MALFORMED),
    AttackCase("one-segment", SHAPE, lambda k: k.parts(k.honest())[1], MALFORMED),
    AttackCase("four-segments", SHAPE, lambda k: k.honest() + ".AAAA", MALFORMED),
    AttackCase(
        "five-segments-jwe",
        "RFC 7516 §7.1 JWE compact is not a JWS",
        lambda k: k.join(b64(b'{"alg":"dir","enc":"A128GCM"}'), "", "AAAA", "BBBB", "CCCC"),
        MALFORMED,
    ),
    AttackCase("empty-string", SHAPE, lambda k: "", MALFORMED),
    AttackCase("whitespace", SHAPE, lambda k: "   ", MALFORMED),
    AttackCase("dots-only", SHAPE, lambda k: "..", MALFORMED),
    AttackCase("bearer-prefix-left-in", SHAPE, lambda k: "Bearer " + k.honest(), MALFORMED),
    AttackCase("trailing-newline", SHAPE, lambda k: k.honest() + "\n", MALFORMED),
    AttackCase("nul-byte", SHAPE, lambda k: k.honest() + "\x00", MALFORMED),
    AttackCase("nul-inside", SHAPE, lambda k: k.honest().replace(".", ".\x00", 1), MALFORMED),
    AttackCase("unicode-char", SHAPE, lambda k: k.honest()[:-1] + "é", MALFORMED),
    AttackCase(
        "unicode-fullwidth-dot", SHAPE, lambda k: k.honest().replace(".", "\uff0e"), MALFORMED
    ),
    AttackCase("bytes-token", "API: only str tokens", lambda k: k.honest().encode(), MALFORMED),
    AttackCase(
        "padded-base64",
        "RFC 7515 §2 base64url without padding",
        lambda k: k.honest().replace(".", "=.", 1),
        MALFORMED,
    ),
    AttackCase("bad-base64-header", SHAPE, _replace(0, "e@J"), MALFORMED),
    AttackCase("bad-base64-payload", SHAPE, _replace(1, "ab+/"), MALFORMED),
    AttackCase("bad-base64-signature", SHAPE, _replace(2, "sig!"), MALFORMED),
    AttackCase(
        "impossible-base64-length",
        SHAPE,
        lambda k: k.join(k.parts(k.honest())[0] + "A", *k.parts(k.honest())[1:]),
        MALFORMED,
    ),
    AttackCase("header-not-json", "RFC 7515 §5.2 step 3", _raw_header(b"alg=HS256"), MALFORMED),
    AttackCase("payload-not-json", "RFC 7519 §7.2 step 10", _raw_payload(b"not json"), MALFORMED),
    AttackCase(
        "header-not-utf8", "RFC 7515 §5.2 step 3 (UTF-8)", _raw_header(b'{"alg":"\xff"}'), MALFORMED
    ),
    *[
        AttackCase(
            f"header-json-{name}",
            "RFC 7515 §5.2 step 4: header is a JSON object",
            _raw_header(body),
            MALFORMED,
        )
        for name, body in [
            ("array", b'["HS256"]'),
            ("string", b'"HS256"'),
            ("number", b"1"),
            ("null", b"null"),
        ]
    ],
    *[
        AttackCase(
            f"payload-json-{name}",
            "RFC 7519 §7.2 step 10: claims are a JSON object",
            _raw_payload(body),
            MALFORMED,
        )
        for name, body in [
            ("array", b'["alice"]'),
            ("string", b'"alice"'),
            ("number", b"1"),
            ("null", b"null"),
        ]
    ],
    AttackCase(
        "crit-header",
        "RFC 7515 §4.1.11 unknown critical extension",
        _header(crit=["exp"], exp=1),
        ("unsupported_header",),
    ),
    AttackCase(
        "crit-b64-false",
        "RFC 7797 / RFC 7515 §4.1.11",
        _header(crit=["b64"], b64=False),
        ("unsupported_header",),
    ),
    # -- size -------------------------------------------------------------------------
    AttackCase("one-megabyte", SIZE, lambda k: "a" * (1 << 20), ("too_large",)),
    AttackCase("8kib-plus-one", SIZE, _exact_size(8193), ("too_large",)),
    # -- identity -----------------------------------------------------------------------
    *[
        AttackCase(
            f"sub-{name}",
            "RFC 7519 §4.1.2 sub is a StringOrURI",
            _claims(sub=value),
            ("bad_subject", "bad_identity", "missing_claim"),
        )
        for name, value in [
            ("object", {"id": 1}),
            ("list", ["alice"]),
            ("bool", True),
            ("null", None),
            ("empty", ""),
            ("int", 7),
        ]
    ],
    AttackCase(
        "sub-missing", "docs/design.md §5 sub required", _claims(sub=DROP), ("missing_claim",)
    ),
    AttackCase(
        "jti-missing",
        "docs/design.md §5 jti required (revocation)",
        _claims(jti=DROP),
        ("missing_claim",),
    ),
    AttackCase("jti-int", "RFC 7519 §4.1.7 jti is a string", _claims(jti=5), ("bad_jti",)),
    # -- token type -------------------------------------------------------------------
    AttackCase(
        "refresh-as-access",
        "RFC 8725 §3.11 explicit typing",
        _refresh_token,
        ("wrong_type",),
        requires=SERVICE,
    ),
    AttackCase(
        "access-as-refresh",
        "RFC 8725 §3.11 explicit typing",
        lambda k: k.service.create_access_token("alice"),
        ("wrong_type",),
        use="refresh",
        requires=SERVICE,
    ),
    AttackCase(
        "untyped-as-refresh",
        "RFC 8725 §3.11: untyped tokens are access-only",
        _claims(typ=DROP),
        ("wrong_type",),
        use="refresh",
        requires=SERVICE,
    ),
    AttackCase(
        "typ-id-token", "RFC 8725 §3.11 explicit typing", _claims(typ="id"), ("wrong_type",)
    ),
    AttackCase(
        "typ-not-string", "RFC 8725 §3.11 explicit typing", _claims(typ=["access"]), ("wrong_type",)
    ),
    AttackCase(
        "refresh-without-family",
        "RFC 9700 §4.14.2 rotation needs a family",
        lambda k: k.honest(typ="refresh"),
        ("bad_family",),
        use="refresh",
        requires=SERVICE,
    ),
    # -- revocation and replay ---------------------------------------------------------
    AttackCase(
        "revoked-jti",
        "ASVS 5.0 V7.4.1 revocation; docs/design.md §5",
        lambda k: k.service.create_access_token("alice"),
        expect=TokenRevoked,
        setup=_revoke,
        requires=SERVICE,
    ),
    AttackCase(
        "revoked-subject",
        "ASVS 5.0 V7.4.3 log out everywhere",
        lambda k: k.service.create_access_token("alice"),
        expect=TokenRevoked,
        setup=_revoke_all,
        requires=SERVICE,
    ),
    AttackCase(
        "revoked-subject-refresh",
        "ASVS 5.0 V7.4.3 log out everywhere",
        _refresh_token,
        expect=TokenRevoked,
        use="refresh",
        setup=_revoke_all,
        requires=SERVICE,
    ),
    AttackCase(
        "revoked-refresh",
        "RFC 7009 revocation; RFC 9700 §4.14",
        _refresh_token,
        expect=TokenRevoked,
        use="refresh",
        setup=_revoke,
        requires=SERVICE,
    ),
    AttackCase(
        "reused-refresh",
        "RFC 9700 §4.14.2 refresh token reuse detection",
        _refresh_token,
        ("refresh_reused",),
        expect=TokenReused,
        use="refresh",
        setup=_spend,
        requires=SERVICE,
    ),
]
