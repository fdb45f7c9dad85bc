"""Differential test: ``TokenVerifier`` against PyJWT on generated and mutated HS256 tokens.

PyJWT's ``jwt.decode`` with the same key, algorithm, issuer, audience, required claims
(``options["require"]``, so a missing ``exp``/``iat``/``sub``/``jti`` is no divergence) and
leeway is the reference. The verifier may refuse *more*, but only under a rule it documents
(the ``Rule`` rows below, each naming the refusal reason it allows); it must never accept
a token PyJWT refuses, and never accept a token that breaks one of its own rules.

Time claims are offsets of at least an hour from the real clock, so the two clocks
(``time.time()`` for the verifier, ``datetime.now()`` inside PyJWT) never straddle a
boundary. The two gaps this test found (``nbf: null`` accepted; an integer beyond a
float's range raising ``OverflowError``) are fixed in ``tokens/verifier.py`` and kept as
regression tests at the end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from nexios_auth_di.exceptions import TokenError
from nexios_auth_di.tokens import TokenVerifier
from nexios_auth_di.tokens.keys import Key, KeyRing

SECRET = "differential-test-secret-" + "s" * 40  # >= 64 bytes: fine for HS256/384/512
WRONG_SECRET = "a-secret-this-server-never-held-" + "w" * 40
KID, ISSUER, AUDIENCE = "k1", "https://issuer.example", "api://orders"
REQUIRED = ("exp", "iat", "sub", "jti")
MAX_LENGTH = 8192
HOUR = 3_600
B64URL = string.ascii_letters + string.digits + "-_"
DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
REGISTERED = {"exp", "iat", "nbf", "sub", "jti", "iss", "aud", "typ"}
FLOAT_RANGE = 2**1023  # an integer this large has no float: PyJWT accepts it, we refuse


# -- the verifier's documented rules beyond PyJWT ------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A check the verifier makes and PyJWT does not, with the reasons it may refuse with."""

    name: str
    reasons: frozenset[str]


def _rule(name: str, *reasons: str) -> Rule:
    return Rule(name, frozenset(reasons))


SIZE = _rule("tokens over 8 KiB are refused before decoding (ASVS 5.0 V9.1)", "too_large")
PADDING = _rule("base64url without '=' padding (RFC 7515 §2)", "malformed")
DUPLICATES = _rule("duplicate JSON member names are refused (RFC 7519 §4)", "malformed")
CONSTANTS = _rule("NaN/Infinity are not JSON (RFC 8259 §6)", "malformed")
UTF8 = _rule("JSON text is UTF-8 without a BOM (RFC 8259 §8.1)", "malformed")
CRIT = _rule(
    "crit/b64 refused: no JWS extension is implemented (RFC 7515 §4.1.11)", "unsupported_header"
)
KID_RULE = _rule("kid must name a key of the ring (RFC 7515 §4.1.4)", "unknown_kid", "bad_kid")
NUMERIC_DATE = _rule(
    "exp/iat/nbf are JSON numbers within a float's range, not strings or booleans (RFC 7519 §2)",
    "bad_time_claim",
)
IDENTITY = _rule("the identity claim (sub) is a non-empty string", "bad_identity")
TYP = _rule("typ separates access from refresh tokens: only 'access' or none passes", "wrong_type")


def _lenient_b64(segment: str) -> bytes:
    core = segment.rstrip("=")
    try:
        return base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))
    except ValueError:
        return b""


def _parse(raw: bytes, found: set[Rule]) -> Any:
    """The value PyJWT would see (last duplicate wins), noting strict-JSON rules broken."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({name for name, _ in items}) != len(items):
            found.add(DUPLICATES)
        return dict(items)

    def constant(name: str) -> float:
        found.add(CONSTANTS)
        return float(name)

    try:
        value = json.loads(raw, object_pairs_hook=pairs, parse_constant=constant)
    except (ValueError, RecursionError):
        return None
    try:  # PyJWT lets json.loads guess UTF-16/32 and skip a BOM; UTF-8 text must parse as is
        json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        found.add(UTF8)
    return value


def violations(token: str) -> set[Rule]:
    """The verifier's extra rules this token breaks, judged independently of its code."""
    found: set[Rule] = set()
    if len(token) > MAX_LENGTH:
        found.add(SIZE)
    parts = token.split(".")
    if any(part.endswith("=") for part in parts):
        found.add(PADDING)
    if len(parts) != 3:
        return found
    header = _parse(_lenient_b64(parts[0]), found)
    claims = _parse(_lenient_b64(parts[1]), found)
    if isinstance(header, dict):
        if "crit" in header or "b64" in header:
            found.add(CRIT)
        if "kid" in header and header["kid"] != KID:
            found.add(KID_RULE)
    if isinstance(claims, dict):
        for name in ("exp", "iat", "nbf"):
            value = claims.get(name)
            if isinstance(value, bool | str | list | dict) or (
                type(value) is int and abs(value) >= FLOAT_RANGE
            ):
                found.add(NUMERIC_DATE)
        if claims.get("sub") == "":
            found.add(IDENTITY)
        if claims.get("typ", "access") != "access":
            found.add(TYP)
    return found


# -- the two judges --------------------------------------------------------------------------
def pyjwt_accepts(token: str) -> bool:
    try:
        jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=0,
            options={
                "require": list(REQUIRED),
                "verify_sub": True,
                "verify_jti": True,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.PyJWTError:
        return False
    return True


def verifier_refusal(token: str) -> str | None:
    """``None`` when the verifier accepts, else its refusal reason."""
    ring = KeyRing([Key.hmac(KID, SECRET)], KID)
    verifier = TokenVerifier(
        ring, required=REQUIRED, issuer=ISSUER, audience=AUDIENCE, leeway=0, cache_size=0
    )
    try:
        verifier.verify(token)
    except TokenError as exc:
        return str(exc.reason)
    return None


def assert_agree(token: str) -> None:
    """Accept only what PyJWT accepts; refuse more only under a named rule."""
    reference = pyjwt_accepts(token)
    refusal = verifier_refusal(token)
    broken = violations(token)
    note(f"pyjwt={reference} verifier={refusal} rules={sorted(r.name for r in broken)}")
    if refusal is None:
        assert reference, "the verifier accepted a token PyJWT refuses"
        assert not broken, f"the verifier accepted a token breaking {broken}"
    elif reference:
        allowed = set().union(*(rule.reasons for rule in broken))
        assert refusal in allowed, f"unexplained divergence: {refusal} (rules: {broken})"


# -- building tokens -------------------------------------------------------------------------
def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Draft:
    """A token before signing: every part can be bent, then it is signed honestly."""

    header: dict[str, Any]
    claims: dict[str, Any]
    header_raw: bytes | None = None
    payload_raw: bytes | None = None
    secret: str = SECRET
    empty_signature: bool = False
    edits: list[Callable[[str], str]] = field(default_factory=list)

    def token(self) -> str:
        head = b64(self.header_raw if self.header_raw is not None else dumps(self.header))
        body = b64(self.payload_raw if self.payload_raw is not None else dumps(self.claims))
        signing_input = f"{head}.{body}"
        alg = self.header.get("alg")
        digest = DIGESTS.get(alg, hashlib.sha256) if isinstance(alg, str) else hashlib.sha256
        mac = hmac.new(self.secret.encode(), signing_input.encode(), digest).digest()
        token = f"{signing_input}." + ("" if self.empty_signature else b64(mac))
        for edit in self.edits:
            token = edit(token)
        return token


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
#: a wrong type (or an out-of-range integer) for a registered claim
WRONG_TYPES = (
    st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.integers(FLOAT_RANGE - 1, 2**1100).map(lambda n: n * (-1) ** (n % 2))
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.lists(st.text(max_size=4), max_size=2)
    | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)
)


@st.composite
def drafts(draw: st.DrawFn) -> tuple[Draft, dict[str, float]]:
    """Honest header and claims; time claims as offsets from "now" (applied at test time)."""
    header: dict[str, Any] = {"alg": "HS256"}
    if draw(st.booleans()):
        header["typ"] = "JWT"
    if draw(st.booleans()):
        header["kid"] = KID
    claims: dict[str, Any] = {
        "sub": draw(st.text(min_size=1, max_size=16)),
        "jti": draw(st.text(max_size=16)),
        "iss": ISSUER,
        "aud": draw(
            st.just(AUDIENCE)
            | st.lists(st.text(max_size=8), max_size=2).map(lambda others: [*others, AUDIENCE])
        ),
    }
    if draw(st.booleans()):
        claims["typ"] = "access"
    extra_keys = st.text(max_size=8).filter(lambda k: k not in REGISTERED)
    claims.update(draw(st.dictionaries(extra_keys, JSON_VALUES, max_size=3)))
    offsets: dict[str, float] = {
        "iat": -draw(st.integers(HOUR, 10**8)),
        "exp": draw(st.integers(HOUR, 10**8)) + draw(st.sampled_from([0, 0.5])),
    }
    if draw(st.booleans()):
        offsets["nbf"] = -draw(st.integers(HOUR, 10**8))
    return Draft(header, claims), offsets


# -- mutations: each bends one thing ---------------------------------------------------------
Mutation = Callable[[st.DataObject, Draft, int], None]


def drop_claim(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.claims.pop(data.draw(st.sampled_from(sorted(draft.claims))), None)


def null_claim(data: st.DataObject, draft: Draft, now: int) -> None:
    name = data.draw(st.sampled_from(["exp", "iat", "nbf", "sub", "jti", "iss", "aud", "typ"]))
    draft.claims[name] = None


def wrong_type(data: st.DataObject, draft: Draft, now: int) -> None:
    name = data.draw(st.sampled_from(sorted(REGISTERED)))
    draft.claims[name] = data.draw(WRONG_TYPES | st.just(str(now + 2 * HOUR)))


def expired(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.claims["exp"] = now - data.draw(st.integers(HOUR, 10**9))


def not_yet_valid(data: st.DataObject, draft: Draft, now: int) -> None:
    name = data.draw(st.sampled_from(["nbf", "iat"]))
    draft.claims[name] = now + data.draw(st.integers(HOUR, 10**9))


def wrong_issuer(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.claims["iss"] = data.draw(st.text(max_size=24).filter(lambda s: s != ISSUER))


def wrong_audience(data: st.DataObject, draft: Draft, now: int) -> None:
    other = st.text(max_size=12).filter(lambda s: s != AUDIENCE)
    draft.claims["aud"] = data.draw(other | st.lists(other, max_size=3))


def odd_typ(data: st.DataObject, draft: Draft, now: int) -> None:
    options = st.sampled_from(["refresh", "Access", "ACCESS", "", "access "])
    draft.claims["typ"] = data.draw(options | st.text(max_size=8))


def empty_sub(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.claims["sub"] = ""


def oversize(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.claims["pad"] = "x" * data.draw(st.integers(5_500, 9_000))  # straddles 8 KiB


def _duplicate(data: st.DataObject, value: dict[str, Any]) -> bytes:
    raw = dumps(value)
    if not value:
        return raw
    name = data.draw(st.sampled_from(sorted(value)))
    first = dumps({name: data.draw(JSON_VALUES)})[1:-1]
    return b"{" + first + b"," + raw[1:]


def duplicate_claim(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.payload_raw = _duplicate(data, draft.claims)


def duplicate_header(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.header_raw = _duplicate(data, draft.header)


def json_constant(data: st.DataObject, draft: Draft, now: int) -> None:
    name = data.draw(st.sampled_from(["x-const", "exp", "iat", "nbf"]))
    constant = data.draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity"]))
    rest = dumps({k: v for k, v in draft.claims.items() if k != name})
    draft.payload_raw = b'{"' + name.encode() + b'":' + constant + b"," + rest[1:]


def not_utf8(data: st.DataObject, draft: Draft, now: int) -> None:
    codec = data.draw(st.sampled_from(["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]))
    if data.draw(st.booleans()):
        draft.payload_raw = json.dumps(draft.claims).encode(codec)
    else:
        draft.header_raw = json.dumps(draft.header).encode(codec)


def other_alg(data: st.DataObject, draft: Draft, now: int) -> None:
    algs = ["HS384", "HS512", "none", "None", "RS256", "ES256", "hs256", "HS256 ", "", None]
    draft.header["alg"] = alg = data.draw(st.sampled_from(algs))
    if alg in ("none", "None"):
        draft.empty_signature = data.draw(st.booleans())
    if data.draw(st.booleans()):
        draft.header.pop("alg")


def odd_kid(data: st.DataObject, draft: Draft, now: int) -> None:
    kids = st.sampled_from(["k2", "", "K1", "k1 ", 1, None, ["k1"], {"kid": "k1"}])
    draft.header["kid"] = data.draw(kids | st.text(max_size=6))


def crit_header(data: st.DataObject, draft: Draft, now: int) -> None:
    extensions: list[dict[str, Any]] = [
        {"crit": ["b64"], "b64": True},
        {"crit": ["b64"], "b64": False},
        {"crit": ["exp"], "exp": 1},
        {"crit": []},
        {"crit": "b64"},
        {"b64": True},
    ]
    draft.header.update(data.draw(st.sampled_from(extensions)))


def not_an_object(data: st.DataObject, draft: Draft, now: int) -> None:
    raw = data.draw(st.sampled_from([b"[]", b"1", b"null", b'"x"', b"", b"{", b"{}"]))
    if data.draw(st.booleans()):
        draft.payload_raw = raw
    else:
        draft.header_raw = raw


def wrong_key(data: st.DataObject, draft: Draft, now: int) -> None:
    draft.secret = WRONG_SECRET


def _edit(draft: Draft, edit: Callable[[str], str]) -> None:
    draft.edits.append(edit)


def flip_char(data: st.DataObject, draft: Draft, now: int) -> None:
    where = data.draw(st.floats(0, 1, exclude_max=True))
    new = data.draw(st.sampled_from(B64URL + ".=+/ \t\n~é\x00"))
    _edit(draft, lambda t: t[: int(where * len(t))] + new + t[int(where * len(t)) + 1 :])


def insert_or_delete(data: st.DataObject, draft: Draft, now: int) -> None:
    where = data.draw(st.floats(0, 1))
    new = data.draw(st.sampled_from(["", "A", ".", "=", " ", "\n", "\r\n", "\t", "%2E"]))
    cut = data.draw(st.integers(0, 2))
    _edit(draft, lambda t: t[: int(where * len(t))] + new + t[int(where * len(t)) + cut :])


def truncate(data: st.DataObject, draft: Draft, now: int) -> None:
    keep = data.draw(st.integers(1, 60))
    _edit(draft, lambda t: t[:-keep])


def non_canonical(data: st.DataObject, draft: Draft, now: int) -> None:
    """Set spare low bits of a segment's last character (RFC 4648 §3.5)."""
    which, low = data.draw(st.integers(0, 2)), data.draw(st.integers(1, 15))

    def edit(token: str) -> str:
        parts = token.split(".")
        segment = parts[which] if which < len(parts) else ""
        spare = {2: 4, 3: 2}.get(len(segment) % 4)
        if not spare:
            return token
        index = B64URL.index(segment[-1]) if segment[-1] in B64URL else 0
        index = (index & ~((1 << spare) - 1)) | (low % (1 << spare) or 1)
        parts[which] = segment[:-1] + B64URL[index]
        return ".".join(parts)

    _edit(draft, edit)


def padded(data: st.DataObject, draft: Draft, now: int) -> None:
    which, count = data.draw(st.integers(0, 2)), data.draw(st.integers(1, 3))

    def edit(token: str) -> str:
        parts = token.split(".")
        if which < len(parts):
            parts[which] += "=" * count
        return ".".join(parts)

    _edit(draft, edit)


def segments(data: st.DataObject, draft: Draft, now: int) -> None:
    choice = data.draw(st.sampled_from(["extra", "extra-empty", "drop", "jwe"]))
    tail = b64(b"    ")  # decodes to whitespace: harmless to a lenient JSON parser
    if choice == "extra":
        _edit(draft, lambda t: f"{t}.{tail}")
    elif choice == "extra-empty":
        _edit(draft, lambda t: f"{t}.")
    elif choice == "drop":
        index = data.draw(st.integers(0, 2))
        _edit(draft, lambda t: ".".join(p for i, p in enumerate(t.split(".")) if i != index))
    else:
        _edit(draft, lambda t: t.replace(".", "..", 1) + f".{tail}.{tail}")


def whitespace(data: st.DataObject, draft: Draft, now: int) -> None:
    space = data.draw(st.sampled_from([" ", "\t", "\n", "\r\n", "\x0b", "\u00a0"]))
    side = data.draw(st.sampled_from(["lead", "trail", "both"]))
    _edit(
        draft, lambda t: (space if side != "trail" else "") + t + (space if side != "lead" else "")
    )


MUTATIONS: list[Mutation] = [
    drop_claim,
    null_claim,
    wrong_type,
    expired,
    not_yet_valid,
    wrong_issuer,
    wrong_audience,
    odd_typ,
    empty_sub,
    oversize,
    duplicate_claim,
    duplicate_header,
    json_constant,
    not_utf8,
    other_alg,
    odd_kid,
    crit_header,
    not_an_object,
    wrong_key,
    flip_char,
    insert_or_delete,
    truncate,
    non_canonical,
    padded,
    segments,
    whitespace,
]


def _materialize(draft: Draft, offsets: dict[str, float], now: int) -> None:
    for name, offset in offsets.items():
        draft.claims[name] = now + offset


# -- the properties --------------------------------------------------------------------------
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drafts())
def test_honest_tokens_pass_both(drafted: tuple[Draft, dict[str, float]]) -> None:
    """Every honestly built HS256 token with random claims is accepted by both judges."""
    draft, offsets = drafted
    _materialize(draft, offsets, int(time.time()))
    token = draft.token()
    assert pyjwt_accepts(token)
    assert verifier_refusal(token) is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drafts(), st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2), st.data())
def test_mutated_tokens_never_accepted_beyond_pyjwt(
    drafted: tuple[Draft, dict[str, float]], mutations: list[Mutation], data: st.DataObject
) -> None:
    """A mutated token is accepted only if PyJWT accepts it; extra refusals name their rule."""
    draft, offsets = drafted
    now = int(time.time())
    _materialize(draft, offsets, now)
    for mutation in mutations:
        note(f"mutation: {mutation.__name__}")
        mutation(data, draft, now)
    assert_agree(draft.token())


# -- each allowed divergence is real: PyJWT accepts, the verifier refuses for that rule -----
def _honest(now: int, **claims: Any) -> dict[str, Any]:
    base = {"sub": "alice", "jti": "j-1", "iat": now - HOUR, "exp": now + HOUR}
    return {**base, "iss": ISSUER, "aud": AUDIENCE, **claims}


def _divergent(rule: Rule, now: int) -> str:
    """One token that breaks ``rule`` and nothing else."""
    header = {"alg": "HS256", "kid": KID}
    examples: dict[Rule, Draft] = {
        SIZE: Draft(header, _honest(now, pad="x" * MAX_LENGTH)),
        DUPLICATES: Draft(header, {}, payload_raw=b'{"sub":"mallory",' + dumps(_honest(now))[1:]),
        CONSTANTS: Draft(header, {}, payload_raw=b'{"x":NaN,' + dumps(_honest(now))[1:]),
        UTF8: Draft(header, {}, payload_raw=json.dumps(_honest(now)).encode("utf-16")),
        CRIT: Draft({**header, "crit": ["b64"], "b64": True}, _honest(now)),
        KID_RULE: Draft({**header, "kid": "k2"}, _honest(now)),
        NUMERIC_DATE: Draft(header, _honest(now, iat=str(now - HOUR))),
        IDENTITY: Draft(header, _honest(now, sub="")),
        TYP: Draft(header, _honest(now, typ="refresh")),
    }
    if rule is PADDING:
        return Draft(header, _honest(now)).token() + "="
    return examples[rule].token()


ALL_RULES = [SIZE, PADDING, DUPLICATES, CONSTANTS, UTF8, CRIT, KID_RULE, NUMERIC_DATE]
ALL_RULES += [IDENTITY, TYP]


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.name for r in ALL_RULES])
def test_each_allowed_divergence_is_real(rule: Rule) -> None:
    """Each stricter rule still refuses something PyJWT accepts, with the rule's reason."""
    token = _divergent(rule, int(time.time()))
    assert violations(token) == {rule}
    assert pyjwt_accepts(token)
    assert verifier_refusal(token) in rule.reasons


# -- gaps found here, fixed in tokens/verifier.py _number() ----------------------------------
def test_null_nbf_is_refused() -> None:
    """A token with ``"nbf": null`` is refused, as PyJWT refuses it."""
    now = int(time.time())
    token = Draft({"alg": "HS256"}, _honest(now, nbf=None)).token()
    assert not pyjwt_accepts(token)
    assert verifier_refusal(token) is not None


def test_integer_beyond_float_range_is_a_token_error() -> None:
    """An ``exp`` of 10**400 (valid JSON) ends in accept or TokenError, never a crash."""
    now = int(time.time())
    token = Draft({"alg": "HS256"}, _honest(now, exp=10**400)).token()
    assert violations(token) == {NUMERIC_DATE}
    assert pyjwt_accepts(token)
    assert verifier_refusal(token) == "bad_time_claim"
