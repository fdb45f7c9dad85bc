"""The passkey attack table: each row breaks one rule of W3C WebAuthn Level 2 §7.1
(registration) or §7.2 (authentication), or sends a malformed body (ASVS 4.0.3 V5.1.4,
V13.1.5), and must get a 4xx (never a 500) whose body says nothing an attacker can use.

Rows are functions of a ``Kit``: alice and bob, each registered with one passkey, on the
real app over HTTP (``https://testserver``). Assertions are re-signed by the software
authenticator over what is sent, so only the rule under test is off.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from authenticator import ORIGIN, Authenticator, b64
from authenticator import unb64 as b64_bytes
from passkey_helpers import (
    LOGIN_VERIFY,
    REGISTER_VERIFY,
    add_passkey,
    clear_up_flag,
    edit_client_data,
    flip_auth_data,
    login_options,
    login_verify,
    register_options,
    register_verify,
    same_credential,
)
from route_helpers import Env, bearer
from support.clock import FakeClock

from nexios_auth_di.routes.bodies import DEFAULT_BODY_LIMIT

#: everything a refusal may say: the public detail of each kind of 4xx
PUBLIC_DETAILS = ("Passkey could not be verified.", "Challenge expired or used.")
#: what a body must never contain: reason codes, library text, internals
LEAKS = (
    "passkey_",
    "traceback",
    "exception",
    "webauthn",
    "signature",
    "counter",
    "origin",
    "rp id",
    "owner",
    "handle",
    "cbor",
    "not found",
)


@dataclass
class Kit:
    """Two users with one passkey each, and fresh tokens for both."""

    env: Env
    clock: FakeClock
    alice: Authenticator
    bob: Authenticator
    alice_token: str
    bob_token: str
    alice_passkey: str
    user_ids: tuple[str, str]

    def options(self, username: str | None = None) -> dict[str, Any]:
        return login_options(self.env, username)

    def login(self, options: dict[str, Any], credential: Any) -> httpx.Response:
        return login_verify(self.env, options["challenge_id"], credential)

    def signed(self, device: Authenticator | None = None, **knobs: Any) -> httpx.Response:
        """Discoverable options answered by ``device`` (alice's) with ``knobs``."""
        options = self.options()
        return self.login(
            options, (device or self.alice).get(options["publicKey"], ORIGIN, **knobs)
        )

    def register(self, make: Callable[[dict[str, Any]], Any], token: str | None = None) -> Any:
        """Creation options for alice (or ``token``'s user) answered by ``make(publicKey)``."""
        token = token or self.alice_token
        options = register_options(self.env, token)
        return register_verify(self.env, token, options["challenge_id"], make(options["publicKey"]))

    def raw(self, path: str, content: bytes, content_type: str = "application/json") -> Any:
        headers = {"Content-Type": content_type, **bearer(self.alice_token)}
        return self.env.client.post(path, content=content, headers=headers)


@pytest.fixture
def kit(make_env: Callable[..., Env], clock: FakeClock) -> Kit:
    """Tokens mode; alice and bob registered, signed in, one passkey each."""
    env = make_env()
    ids = (str(env.register()["id"]), str(env.register("bob")["id"]))
    alice, bob = Authenticator(), Authenticator()
    alice_token, bob_token = env.login()["access_token"], env.login("bob")["access_token"]
    passkey = add_passkey(env, alice_token, alice)
    add_passkey(env, bob_token, bob)
    return Kit(env, clock, alice, bob, alice_token, bob_token, passkey, ids)


# -- §7.2 authentication ---------------------------------------------------------------
def replayed_challenge(k: Kit) -> Any:
    options = k.options()
    assert k.login(options, k.alice.get(options["publicKey"], ORIGIN)).status_code == 200
    return k.login(options, k.alice.get(options["publicKey"], ORIGIN))  # a fresh signature


def expired_challenge(k: Kit) -> Any:
    options = k.options()
    k.clock.advance(k.env.container.settings().passkeys.challenge_ttl + 1)
    return k.login(options, k.alice.get(options["publicKey"], ORIGIN))


def registration_challenge_signs_in(k: Kit) -> Any:
    made = register_options(k.env, k.alice_token)
    assertion = k.alice.get(made["publicKey"], ORIGIN)
    return login_verify(k.env, made["challenge_id"], assertion)


def other_challenge_signed(k: Kit) -> Any:
    return k.signed(challenge=b"\x07" * 32)


def counter_regression(k: Kit) -> Any:
    assert k.signed(count=7).status_code == 200
    return k.signed(count=3)


def counter_repeated(k: Kit) -> Any:
    assert k.signed(count=7).status_code == 200
    return k.signed(count=7)


def not_in_allow_list(k: Kit) -> Any:
    options = k.options("alice")  # alice's allow-list, bob's passkey answers
    return k.login(options, k.bob.get(options["publicKey"], ORIGIN))


def unknown_name_any_passkey(k: Kit) -> Any:
    options = k.options("nobody")
    return k.login(options, k.alice.get(options["publicKey"], ORIGIN))


def user_handle_of_another(k: Kit) -> Any:
    return k.signed(user_handle=k.bob.user_handle)


def user_handle_missing(k: Kit) -> Any:
    return k.signed(user_handle=None)


def unknown_credential(k: Kit) -> Any:
    stranger = Authenticator()
    stranger.cred_init("testserver", b"someone")
    return k.signed(stranger)


def deleted_credential(k: Kit) -> Any:
    store = k.env.container.credential_store()
    assert asyncio.run(store.delete("passkey", k.alice_passkey, user_id=None))
    return k.signed()


def deactivated_account(k: Kit) -> Any:
    asyncio.run(k.env.repo.set_active(k.user_ids[0], False))
    return k.signed()


def tampered_client_data(k: Kit) -> Any:
    options = k.options()
    credential = k.alice.get(options["publicKey"], ORIGIN)
    return k.login(options, edit_client_data(credential, crossOrigin=False))


def tampered_auth_data(k: Kit) -> Any:
    options = k.options()
    return k.login(options, flip_auth_data(k.alice.get(options["publicKey"], ORIGIN)))


def signature_of_another_key(k: Kit) -> Any:
    options = k.options()
    forged = k.alice.get(options["publicKey"], ORIGIN)
    bobs = k.bob.get(options["publicKey"], ORIGIN)
    forged["response"]["signature"] = bobs["response"]["signature"]
    return k.login(options, forged)


LOGIN_ATTACKS = [
    pytest.param(
        replayed_challenge, 401, "passkey_challenge", id="replayed-challenge-webauthn-l2-7.2-step12"
    ),
    pytest.param(
        expired_challenge, 401, "passkey_challenge", id="expired-challenge-webauthn-l2-7.2-step12"
    ),
    pytest.param(
        registration_challenge_signs_in,
        401,
        "passkey_challenge",
        id="registration-challenge-for-login-7.2-step12",
    ),
    pytest.param(
        other_challenge_signed,
        401,
        "challenge was not expected challenge",
        id="signed-other-challenge-7.2-step12",
    ),
    pytest.param(
        lambda k: k.login(o := k.options(), k.alice.get(o["publicKey"], "https://evil.test")),
        401,
        "Unexpected client data origin",
        id="wrong-origin-7.2-step13",
    ),
    pytest.param(
        lambda k: k.login(o := k.options(), k.alice.get(o["publicKey"], "http://testserver")),
        401,
        "Unexpected client data origin",
        id="http-origin-downgrade-7.2-step13",
    ),
    pytest.param(
        lambda k: k.signed(rp_id="evil.test"),
        401,
        "Unexpected RP ID hash",
        id="wrong-rp-id-7.2-step15",
    ),
    pytest.param(
        lambda k: k.signed(up=False),
        401,
        "User was not present",
        id="user-present-missing-7.2-step16",
    ),
    pytest.param(
        lambda k: k.signed(uv=False),
        401,
        "user was not verified",
        id="user-verified-missing-7.2-step17",
    ),
    pytest.param(
        lambda k: k.signed(ctype="webauthn.create"),
        401,
        "Unexpected client data type",
        id="type-create-7.2-step11",
    ),
    pytest.param(
        lambda k: k.signed(ctype="payment.get"),
        401,
        "Unexpected client data type",
        id="type-other-7.2-step11",
    ),
    pytest.param(
        lambda k: k.signed(tamper=True),
        401,
        "Could not verify authentication signature",
        id="tampered-signature-7.2-step20",
    ),
    pytest.param(
        tampered_client_data,
        401,
        "Could not verify authentication signature",
        id="tampered-clientDataJSON-7.2-step20",
    ),
    pytest.param(
        tampered_auth_data,
        401,
        "Could not verify authentication signature",
        id="tampered-authenticatorData-7.2-step20",
    ),
    pytest.param(
        signature_of_another_key,
        401,
        "Could not verify authentication signature",
        id="signature-by-other-key-7.2-step20",
    ),
    pytest.param(
        counter_regression, 401, "sign counter went back", id="sign-counter-regression-7.2-step21"
    ),
    pytest.param(
        counter_repeated, 401, "sign counter went back", id="sign-counter-repeated-7.2-step21"
    ),
    pytest.param(
        not_in_allow_list, 401, "passkey_not_owner", id="credential-not-in-allow-list-7.2-step5"
    ),
    pytest.param(
        unknown_name_any_passkey,
        401,
        "passkey_not_owner",
        id="unknown-username-allow-list-7.2-step5",
    ),
    pytest.param(
        user_handle_of_another, 401, "passkey_user_handle", id="user-handle-of-other-user-7.2-step6"
    ),
    pytest.param(
        user_handle_missing,
        401,
        "passkey_user_handle",
        id="user-handle-missing-discoverable-7.2-step6",
    ),
    pytest.param(unknown_credential, 401, "passkey_unknown", id="unknown-credential-id-7.2-step7"),
    pytest.param(deleted_credential, 401, "passkey_unknown", id="deleted-credential-7.2-step7"),
    pytest.param(
        deactivated_account, 401, "passkey_unknown_user", id="deactivated-account-7.2-step6"
    ),
]


# -- §7.1 registration -----------------------------------------------------------------
def replayed_registration(k: Kit) -> Any:
    options = register_options(k.env, k.alice_token)
    first = Authenticator().register(options["publicKey"], ORIGIN)
    ok = register_verify(k.env, k.alice_token, options["challenge_id"], first)
    assert ok.status_code == 201, ok.text
    second = Authenticator().register(options["publicKey"], ORIGIN)
    return register_verify(k.env, k.alice_token, options["challenge_id"], second)


def expired_registration(k: Kit) -> Any:
    options = register_options(k.env, k.alice_token)
    k.clock.advance(k.env.container.settings().passkeys.challenge_ttl + 1)
    credential = Authenticator().register(options["publicKey"], ORIGIN)
    return register_verify(k.env, k.alice_token, options["challenge_id"], credential)


def login_challenge_registers(k: Kit) -> Any:
    options = k.options()
    public_key = {**options["publicKey"], "rp": {"id": "testserver"}, "user": {"id": b64(b"a")}}
    public_key["pubKeyCredParams"] = [{"alg": -7, "type": "public-key"}]
    credential = Authenticator().register(public_key, ORIGIN)
    return register_verify(k.env, k.alice_token, options["challenge_id"], credential)


def bobs_challenge_for_alice(k: Kit) -> Any:
    options = register_options(k.env, k.bob_token)
    credential = Authenticator().register(options["publicKey"], ORIGIN)
    return register_verify(k.env, k.alice_token, options["challenge_id"], credential)


def registration_wrong_challenge(k: Kit) -> Any:
    return k.register(
        lambda pk: edit_client_data(Authenticator().register(pk, ORIGIN), challenge=b64(b"x" * 32))
    )


def junk_attestation(k: Kit) -> Any:
    def make(pk: dict[str, Any]) -> Any:
        credential = Authenticator().register(pk, ORIGIN)
        credential["response"]["attestationObject"] = b64(b"\xa3junk-not-cbor")
        return credential

    return k.register(make)


def reregister_own(k: Kit) -> Any:
    return k.register(lambda pk: same_credential(k.alice).register(pk, ORIGIN))


def register_others_credential(k: Kit) -> Any:
    """Bob answers his creation options with alice's credential (same id and key)."""
    return k.register(lambda pk: same_credential(k.alice).register(pk, ORIGIN), k.bob_token)


REGISTER_ATTACKS = [
    pytest.param(
        replayed_registration,
        400,
        "challenge expired, used or not this user's",
        id="replayed-registration-challenge-7.1-step8",
    ),
    pytest.param(
        expired_registration,
        400,
        "challenge expired, used or not this user's",
        id="expired-registration-challenge-7.1-step8",
    ),
    pytest.param(
        login_challenge_registers,
        400,
        "challenge expired, used or not this user's",
        id="login-challenge-for-registration-7.1-step8",
    ),
    pytest.param(
        bobs_challenge_for_alice,
        400,
        "challenge expired, used or not this user's",
        id="other-users-registration-challenge-7.1-step8",
    ),
    pytest.param(
        registration_wrong_challenge,
        400,
        "challenge was not expected challenge",
        id="registration-other-challenge-7.1-step8",
    ),
    pytest.param(
        lambda k: k.register(lambda pk: Authenticator().register(pk, ORIGIN, ctype="webauthn.get")),
        400,
        "Unexpected client data type",
        id="registration-type-get-7.1-step7",
    ),
    pytest.param(
        lambda k: k.register(lambda pk: Authenticator().register(pk, "https://evil.test")),
        400,
        "Unexpected client data origin",
        id="registration-wrong-origin-7.1-step9",
    ),
    pytest.param(
        lambda k: k.register(lambda pk: Authenticator().register(pk, ORIGIN, rp_id="evil.test")),
        400,
        "Unexpected RP ID hash",
        id="registration-wrong-rp-id-7.1-step13",
    ),
    pytest.param(
        lambda k: k.register(lambda pk: clear_up_flag(Authenticator().register(pk, ORIGIN))),
        400,
        "User presence was required",
        id="registration-user-present-missing-7.1-step14",
    ),
    pytest.param(
        lambda k: k.register(lambda pk: Authenticator().register(pk, ORIGIN, uv=False)),
        400,
        "user was not verified",
        id="registration-user-verified-missing-7.1-step15",
    ),
    pytest.param(
        junk_attestation,
        400,
        "passkey registration refused",
        id="registration-attestation-not-cbor-7.1-step12",
    ),
    pytest.param(
        reregister_own, 409, "already registered", id="reregister-own-credential-id-7.1-step22"
    ),
    pytest.param(
        register_others_credential,
        409,
        "already registered",
        id="register-other-users-credential-7.1-step22",
    ),
]


# -- malformed bodies (both verify routes) ------------------------------------------
def _login_body(k: Kit, edit: Callable[[dict[str, Any]], Any]) -> Any:
    options = k.options()
    body = {
        "challenge_id": options["challenge_id"],
        "credential": k.alice.get(options["publicKey"], ORIGIN),
    }
    edit(body)
    return k.env.client.post(LOGIN_VERIFY, json=body)


def _part(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["credential"]["response"][name] = value

    return edit


def _field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["credential"][name] = value

    return edit


def _same_ids(value: str) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["credential"].update(id=value, rawId=value)

    return edit


def _top(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body[name] = value

    return edit


LOGIN_ONLY, BOTH = "login", "both"
#: (name, edit of a valid body, status on login/verify, which verify routes it applies to);
#: register/verify answers 400 where login/verify answers 401 (signed in: not a logout)
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], Any], int, str]] = [
    ("junk-base64-clientDataJSON", _part("clientDataJSON", "!!not base64!!"), 400, BOTH),
    ("non-alphabet-clientDataJSON", _part("clientDataJSON", "%%%%"), 400, BOTH),
    ("junk-base64-signature", _part("signature", "%%%"), 400, LOGIN_ONLY),
    ("empty-signature", _part("signature", ""), 400, LOGIN_ONLY),
    ("signature-as-number", _part("signature", 12345), 400, LOGIN_ONLY),
    ("authenticatorData-too-short", _part("authenticatorData", b64(b"short")), 401, LOGIN_ONLY),
    ("userHandle-as-list", _part("userHandle", [1, 2]), 400, LOGIN_ONLY),
    ("attestationObject-junk-base64", _part("attestationObject", "*"), 400, "register"),
    ("attestationObject-as-object", _part("attestationObject", {"fmt": "none"}), 400, "register"),
    ("transports-as-string", _part("transports", "usb"), 400, "register"),
    ("transports-with-object", _part("transports", ["usb", {}]), 400, "register"),
    ("transports-with-number", _part("transports", [1]), 400, "register"),
    ("clientDataJSON-not-json", _part("clientDataJSON", b64(b"\xff\xfe not json")), 401, BOTH),
    ("clientDataJSON-json-list", _part("clientDataJSON", b64(b"[1, 2, 3]")), 401, BOTH),
    (
        "clientDataJSON-challenge-number",
        _part("clientDataJSON", b64(b'{"challenge": 1}')),
        401,
        BOTH,
    ),
    ("response-missing", _field("response", None), 400, BOTH),
    ("response-as-string", _field("response", "abc"), 400, BOTH),
    ("rawId-as-number", _field("rawId", 42), 400, BOTH),
    ("id-differs-from-rawId", _field("id", b64(b"other")), 400, BOTH),
    ("rawId-over-1023-bytes", _same_ids(b64(bytes(1024))), 400, BOTH),
    ("type-not-public-key", _field("type", "password"), 400, BOTH),
    ("credential-as-string", _top("credential", "public-key"), 400, BOTH),
    ("credential-as-list", _top("credential", []), 400, BOTH),
    ("credential-missing", lambda b: b.pop("credential"), 400, BOTH),
    ("challenge_id-as-number", _top("challenge_id", 7), 400, BOTH),
    ("challenge_id-oversize", _top("challenge_id", "x" * 5000), 400, BOTH),
    ("challenge_id-unknown", _top("challenge_id", "not-a-challenge"), 401, BOTH),
    ("unknown-top-level-field", _top("password", "hunter2"), 400, BOTH),
]
LOGIN_MALFORMED = [
    pytest.param(edit, status, id=f"{name}-asvs-v5.1.4")
    for name, edit, status, where in MALFORMED
    if where in (LOGIN_ONLY, BOTH)
]
REGISTER_MALFORMED = [
    pytest.param(edit, 400 if status == 401 else status, id=f"{name}-asvs-v5.1.4")
    for name, edit, status, where in MALFORMED
    if where in ("register", BOTH)
]
RAW_ROWS = [
    pytest.param(b"{not json", "application/json", 400, id="body-not-json-asvs-v5.1.4"),
    pytest.param(b"[1, 2]", "application/json", 400, id="body-json-array-asvs-v5.1.4"),
    pytest.param(b"", "application/json", 400, id="body-empty-asvs-v5.1.4"),
    pytest.param(b"[" * 100_000, "application/json", 413, id="body-nesting-bomb-asvs-v5.1.4"),
    pytest.param(
        b'{"challenge_id": "' + b"a" * (DEFAULT_BODY_LIMIT + 1) + b'"}',
        "application/json",
        413,
        id="oversize-body-413-cwe-770",
    ),
    pytest.param(b"challenge_id=x", "text/plain", 415, id="wrong-content-type-415-asvs-v13.1.5"),
    pytest.param(
        b"challenge_id=x",
        "application/x-www-form-urlencoded",
        415,
        id="form-content-type-415-asvs-v13.1.5",
    ),
]


def reveals_nothing(r: httpx.Response, kit: Kit) -> None:
    """A 4xx JSON body with a stable code and a public detail: no reason code, library
    message, id or credential, and no credential issued."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    body = r.json()
    assert set(body) <= {"error", "detail"}, body
    text = r.text.lower()
    for leak in LEAKS:
        assert leak not in text or body["detail"].startswith("credential."), (leak, body)
    assert kit.alice_passkey.lower() not in text
    assert "access_token" not in text
    assert "set-cookie" not in r.headers
    if r.status_code == 401:
        assert body["detail"] in PUBLIC_DETAILS, body


def trail(kit: Kit, caplog: pytest.LogCaptureFixture, response: httpx.Response) -> str:
    """What the server said about a refusal where only operators look: its log lines, the
    audited reasons, and the public detail (proves the row hit the check it names)."""
    lines = [r.getMessage() for r in caplog.records]
    reasons = [e.detail.get("reason", "") for e in kit.env.sink.events]
    return "\n".join([*lines, *reasons, response.text])


@pytest.mark.parametrize(("attack", "status", "why"), LOGIN_ATTACKS)
def test_sign_in_attack_is_refused(
    attack: Any, status: int, why: str, kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    """One broken §7.2 rule: refused by that check, with the same public body, no login."""
    before = _logins(kit)
    with caplog.at_level(logging.INFO, logger="nexios_auth_di"):
        r = attack(kit)
    assert r.status_code == status, r.text
    reveals_nothing(r, kit)
    assert why in trail(kit, caplog, r)
    assert _logins(kit) <= before + 1  # a row's own honest set-up login at most


@pytest.mark.parametrize(("attack", "status", "why"), REGISTER_ATTACKS)
def test_registration_attack_is_refused(
    attack: Any, status: int, why: str, kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    """One broken §7.1 rule: refused by that check; nothing stored beyond a row's own
    honest set-up."""
    before = _passkeys(kit)
    with caplog.at_level(logging.INFO, logger="nexios_auth_di"):
        r = attack(kit)
    assert r.status_code == status, r.text
    reveals_nothing(r, kit)
    assert why in trail(kit, caplog, r)
    assert _passkeys(kit) <= before + 1


@pytest.mark.parametrize(("edit", "status"), LOGIN_MALFORMED)
def test_malformed_sign_in_body_is_refused(edit: Any, status: int, kit: Kit) -> None:
    """A malformed sign-in body is a 4xx before any signature work, never a 500."""
    r = _login_body(kit, edit)
    assert r.status_code == status, r.text
    reveals_nothing(r, kit)


@pytest.mark.parametrize(("edit", "status"), REGISTER_MALFORMED)
def test_malformed_registration_body_is_refused(edit: Any, status: int, kit: Kit) -> None:
    """The malformed rows that apply to register/verify: a 4xx, never a 500, nothing
    stored."""
    options = register_options(kit.env, kit.alice_token)
    credential = Authenticator().register(options["publicKey"], ORIGIN)
    body = {"challenge_id": options["challenge_id"], "credential": credential}
    edit(body)
    before = _passkeys(kit)
    r = kit.env.client.post(REGISTER_VERIFY, json=body, headers=bearer(kit.alice_token))
    assert r.status_code == status, r.text
    reveals_nothing(r, kit)
    assert _passkeys(kit) == before


@pytest.mark.parametrize("path", [LOGIN_VERIFY, REGISTER_VERIFY])
@pytest.mark.parametrize(("content", "content_type", "status"), RAW_ROWS)
def test_malformed_raw_body_is_refused(
    path: str, content: bytes, content_type: str, status: int, kit: Kit
) -> None:
    """Bodies that are not a JSON object of bounded size: 400, 413 or 415, never 500."""
    r = kit.raw(path, content, content_type)
    assert r.status_code == status, r.text
    reveals_nothing(r, kit)


def test_counter_regression_is_logged_and_audited(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    """A sign counter going back (a cloned authenticator, §7.2 step 21) is refused, logged
    as a warning naming the passkey, and audited as passkey_counter_regression."""
    assert kit.signed(count=9).status_code == 200
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di.passkeys"):
        r = kit.signed(count=4)
    assert r.status_code == 401
    reveals_nothing(r, kit)
    [record] = [r for r in caplog.records if r.name == "nexios_auth_di.passkeys"]
    assert record.levelno == logging.WARNING
    assert kit.alice_passkey in record.getMessage()
    assert "stored 9" in record.getMessage()
    assert "seen 4" in record.getMessage()
    [event] = [e for e in kit.env.sink.events if e.kind.value == "passkey_counter_regression"]
    assert event.detail == {"passkey": kit.alice_passkey, "stored": "9", "seen": "4"}
    stored = asyncio.run(kit.env.container.credential_store().get("passkey", kit.alice_passkey))
    assert stored is not None
    assert stored.data["sign_count"] == 9  # the refused value is not written


def test_every_401_body_is_the_same(kit: Kit) -> None:
    """Unknown passkey, another user's, a bad signature and a regression all read alike:
    the body does not tell an attacker which check failed (ASVS V7.4.1)."""
    stranger = Authenticator()
    stranger.cred_init("testserver", b"someone")
    refusals = [
        kit.signed(stranger),
        not_in_allow_list(kit),
        kit.signed(tamper=True),
        user_handle_of_another(kit),
        counter_regression(kit),
    ]
    assert {r.status_code for r in refusals} == {401}
    bodies = {json.dumps(r.json(), sort_keys=True) for r in refusals}
    assert len(bodies) == 1, bodies


def _logins(kit: Kit) -> int:
    return sum(e.kind.value == "login_succeeded" for e in kit.env.sink.events)


def _passkeys(kit: Kit) -> int:
    store = kit.env.container.credential_store()

    async def count() -> int:
        return sum([len(await store.list_for_user(u, "passkey")) for u in kit.user_ids])

    return asyncio.run(count())


def test_options_do_not_tell_whether_a_name_has_an_account(kit: Kit) -> None:
    """WebAuthn L2 §14.6.2 (username enumeration, ASVS V2.2.x / V3.x): an unknown name and
    an account without passkeys get one stable decoy credential shaped like alice's real
    one, so the options do not say which names exist; the decoy opens nothing."""
    kit.env.register("carol")  # an account without a passkey

    def allowed(name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = kit.options(name)["publicKey"]["allowCredentials"]
        return found

    real, unknown, carol = allowed("alice"), allowed("nobody"), allowed("carol")
    for listed in (real, unknown, carol):
        assert len(listed) == 1
        assert set(listed[0]) == set(real[0])
        assert len(listed[0]["id"]) == len(real[0]["id"])
    assert unknown == allowed("nobody") == allowed("NOBODY")  # stable, like a real one
    assert unknown != allowed("somebody-else") != carol
    assert real[0]["id"] == kit.alice_passkey
    options = kit.options("nobody")
    decoy = Authenticator()
    decoy.cred_init("testserver", b"x")
    decoy.credential_id = bytes(b64_bytes(unknown[0]["id"]))
    r = kit.login(options, decoy.get(options["publicKey"], ORIGIN))
    assert r.status_code == 401
    reveals_nothing(r, kit)
