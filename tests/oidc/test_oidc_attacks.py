"""Attack rows against the OIDC callback: each row names the rule it covers. Flow and
account rows run through the real provider; forged-ID-token rows feed tokens minted
with the provider's own key (or another) through the token-exchange step."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from oidc_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    FLOW_COOKIE,
    PROVIDER,
    callback_path,
    claims_for,
    mint,
    provider_key,
    query,
    random_sub,
    sign_in,
)
from route_helpers import bearer

from nexios_auth_di.events import EventKind
from nexios_auth_di.oidc.identities import KIND


def _reasons(env: Any) -> list[str]:
    return [e.detail.get("reason", "") for e in env.sink.events if e.kind == EventKind.LOGIN_FAILED]


def _no_login(env: Any) -> None:
    assert not [e for e in env.sink.events if e.kind == EventKind.LOGIN_SUCCEEDED]


# -- state, code and flow lifetime (real provider) -----------------------------------------


def _missing_state(env: Any, b: Any, url: str) -> tuple[Any, str]:
    q = query(url)
    return b.get(f"/auth/oidc/{PROVIDER}/callback?code={q['code']}"), "oidc_state_missing"


def _wrong_state(env: Any, b: Any, url: str) -> tuple[Any, str]:
    q = query(url)
    path = f"/auth/oidc/{PROVIDER}/callback?code={q['code']}&state=forged-{secrets.token_hex(8)}"
    return b.get(path), "oidc_state_mismatch"


def _other_browser(env: Any, b: Any, url: str) -> tuple[Any, str]:
    attacker = env.agent()  # has the victim's whole callback URL, not its cookie
    return attacker.get(callback_path(url)), "oidc_no_flow_cookie"


def _other_browsers_flow(env: Any, b: Any, url: str) -> tuple[Any, str]:
    attacker = env.agent()  # a flow of its own: the victim's state is not its state
    assert attacker.get(f"/auth/oidc/{PROVIDER}/login").status_code == 302
    return attacker.get(callback_path(url)), "oidc_state_mismatch"


def _replayed_callback(env: Any, b: Any, url: str) -> tuple[Any, str]:
    first = b.get(callback_path(url))
    assert first.status_code == 200, first.text
    b.cookies[FLOW_COOKIE] = first.request.headers["cookie"].split("=", 1)[1]
    return b.get(callback_path(url)), "oidc_flow_unknown"


def _replayed_code(env: Any, b: Any, url: str) -> tuple[Any, str]:
    first = b.get(callback_path(url))
    assert first.status_code == 200, first.text
    again = b.get(f"/auth/oidc/{PROVIDER}/login")  # a new flow, the old code
    state = query(again.headers["location"])["state"]
    path = callback_path(url).replace(query(url)["state"], state)
    return b.get(path), "oidc_code_refused"


def _after_lifetime(env: Any, b: Any, url: str) -> tuple[Any, str]:
    env.clock.advance(env.container.settings().oidc.flow_ttl + 1)
    # the store's TTL or the explicit bound, whichever sees it first
    return b.get(callback_path(url)), "oidc_flow_expired|oidc_flow_unknown"


def _provider_error(env: Any, b: Any, url: str) -> tuple[Any, str]:
    state = query(url)["state"]
    path = f"/auth/oidc/{PROVIDER}/callback?error=access_denied&state={state}"
    return b.get(path), "oidc_provider_error"


def _missing_iss(env: Any, b: Any, url: str) -> tuple[Any, str]:
    q = query(url)  # the provider advertises the parameter, so it must be there
    path = f"/auth/oidc/{PROVIDER}/callback?code={quote(q['code'])}&state={q['state']}"
    return b.get(path), "oidc_iss_param_missing"


def _mixup_iss(env: Any, b: Any, url: str) -> tuple[Any, str]:
    q = query(url)
    path = f"/auth/oidc/{PROVIDER}/callback?code={q['code']}&state={q['state']}&iss=https://evil.example"
    return b.get(path), "oidc_wrong_iss_param"


FLOW_ROWS = [
    pytest.param(_missing_state, id="missing-state-RFC6749-10.12"),
    pytest.param(_wrong_state, id="wrong-state-RFC6749-10.12"),
    pytest.param(_other_browser, id="state-from-another-browser-RFC6749-10.12"),
    pytest.param(_other_browsers_flow, id="state-into-another-browsers-flow-RFC6749-10.12"),
    pytest.param(_replayed_callback, id="replayed-callback-state-single-use-RFC6749-10.12"),
    pytest.param(_replayed_code, id="replayed-code-RFC6749-4.1.2-10.5"),
    pytest.param(_after_lifetime, id="callback-after-flow-lifetime-RFC6749-10.12"),
    pytest.param(_provider_error, id="provider-error-response-RFC6749-4.1.2.1"),
    pytest.param(_mixup_iss, id="mix-up-iss-parameter-RFC9207-2.4"),
    pytest.param(_missing_iss, id="advertised-iss-parameter-missing-RFC9207-2.4"),
]


@pytest.mark.parametrize("attack", FLOW_ROWS)
def test_flow_attack_is_refused(make_oidc_env: Any, clock: Any, attack: Any) -> None:
    """A callback that is not this browser's own, fresh, first use of its flow is 401."""
    env = make_oidc_env("tokens")
    env.clock = clock
    b = env.agent()
    url = sign_in(b, random_sub())
    answer, reason = attack(env, b, url)
    assert answer.status_code == 401, answer.text
    assert set(answer.json()) == {"error", "detail"}
    assert "access_token" not in answer.text
    assert set(reason.split("|")) & set(_reasons(env))


# -- forged ID tokens through the exchange step -----------------------------------------------


def _forged(issuer: str, nonce: str, key: Any) -> dict[str, tuple[str, str]]:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    c = claims_for(issuer, nonce)
    now = c["iat"]

    def signed(claims: dict[str, Any]) -> str:
        return mint(key, "test-rs256", claims)

    def without(name: str) -> dict[str, Any]:
        return {k: v for k, v in c.items() if k != name}

    hs256 = jwt.encode(c, CLIENT_SECRET + "-pad-to-32-bytes", algorithm="HS256")
    return {
        "wrong-nonce-OIDC-Core-3.1.3.7-11": (signed({**c, "nonce": "x"}), "wrong_nonce"),
        "missing-nonce-OIDC-Core-3.1.3.7-11": (signed(without("nonce")), "wrong_nonce"),
        "wrong-aud-OIDC-Core-3.1.3.7-3": (signed({**c, "aud": "other-client"}), "wrong_aud"),
        "multi-aud-without-azp-OIDC-Core-3.1.3.7-4": (
            signed({**c, "aud": [CLIENT_ID, "other"]}),
            "wrong_azp",
        ),
        "foreign-azp-OIDC-Core-3.1.3.7-5": (
            signed({**c, "aud": [CLIENT_ID, "o"], "azp": "o"}),
            "wrong_azp",
        ),
        "wrong-iss-OIDC-Core-3.1.3.7-2": (
            signed({**c, "iss": "https://evil.example"}),
            "wrong_iss",
        ),
        "expired-OIDC-Core-3.1.3.7-9": (
            signed({**c, "iat": now - 4000, "exp": now - 3600}),
            "expired",
        ),
        "iat-in-future-OIDC-Core-3.1.3.7-10": (
            signed({**c, "iat": now + 3600, "exp": now + 4000}),
            "iat_in_future",
        ),
        "iat-too-old-OIDC-Core-3.1.3.7-10": (signed({**c, "iat": now - 7200}), "iat_too_old"),
        "unknown-kid-OIDC-Core-3.1.3.7-6": (mint(other, "attacker-kid", c), "unknown_key"),
        "known-kid-other-key-OIDC-Core-3.1.3.7-6": (mint(other, "test-rs256", c), "bad_signature"),
        "alg-none-RFC8725-3.1": (jwt.encode(c, None, algorithm="none"), "bad_alg"),
        "hs256-client-secret-RFC8725-3.1": (hs256, "bad_alg"),
        "missing-exp-OIDC-Core-2": (signed(without("exp")), "invalid"),
        "not-a-jwt": ("not.a.jwt", "malformed"),
    }


FORGED = [
    "wrong-nonce-OIDC-Core-3.1.3.7-11",
    "missing-nonce-OIDC-Core-3.1.3.7-11",
    "wrong-aud-OIDC-Core-3.1.3.7-3",
    "multi-aud-without-azp-OIDC-Core-3.1.3.7-4",
    "foreign-azp-OIDC-Core-3.1.3.7-5",
    "wrong-iss-OIDC-Core-3.1.3.7-2",
    "expired-OIDC-Core-3.1.3.7-9",
    "iat-in-future-OIDC-Core-3.1.3.7-10",
    "iat-too-old-OIDC-Core-3.1.3.7-10",
    "unknown-kid-OIDC-Core-3.1.3.7-6",
    "known-kid-other-key-OIDC-Core-3.1.3.7-6",
    "alg-none-RFC8725-3.1",
    "hs256-client-secret-RFC8725-3.1",
    "missing-exp-OIDC-Core-2",
    "not-a-jwt",
]


@pytest.mark.parametrize("row", FORGED)
def test_forged_id_token_is_refused(make_oidc_env: Any, row: str) -> None:
    """An ID token failing any §3.1.3.7 check is 401 and signs nobody in."""
    env = make_oidc_env("tokens")
    b = env.agent()
    start = b.get(f"/auth/oidc/{PROVIDER}/login")
    params = query(start.headers["location"])
    key = provider_key(env.provider.key_file).key
    token, reason = _forged(env.provider.issuer, params["nonce"], key)[row]
    client = env.client_of()

    async def exchange(code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        return {"id_token": token, "token_type": "Bearer"}

    client.exchange = exchange  # the provider's answer, replaced by the forged token
    iss = quote(env.provider.issuer, safe="")
    answer = b.get(f"/auth/oidc/{PROVIDER}/callback?code=x&state={params['state']}&iss={iss}")
    assert answer.status_code == 401, answer.text
    assert f"oidc_{reason}" in _reasons(env)
    _no_login(env)


def test_forged_row_control_passes(make_oidc_env: Any) -> None:
    """The forging harness itself: a well-formed token under the provider's key logs in
    (so the rows above fail for their one changed claim, not for the harness)."""
    env = make_oidc_env("tokens")
    b = env.agent()
    params = query(b.get(f"/auth/oidc/{PROVIDER}/login").headers["location"])
    key = provider_key(env.provider.key_file).key
    token = mint(key, "test-rs256", claims_for(env.provider.issuer, params["nonce"], random_sub()))

    async def exchange(code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        return {"id_token": token}

    env.client_of().exchange = exchange
    iss = quote(env.provider.issuer, safe="")
    answer = b.get(f"/auth/oidc/{PROVIDER}/callback?code=x&state={params['state']}&iss={iss}")
    assert answer.status_code == 200, answer.text
    assert "access_token" in answer.json()


# -- accounts ------------------------------------------------------------------------------


def _account(env: Any, email: str, verified: bool) -> Any:
    env.register("alice")
    record = asyncio.run(env.repo.get_by_username("alice"))
    asyncio.run(env.repo.set_email(record.id, email, verified=verified))
    return record


TAKEOVERS = [
    pytest.param("mallory", True, id="unverified-provider-email-takeover-OIDC-Core-15.5.2"),
    pytest.param("mallory", False, id="unverified-both-sides-OIDC-Core-15.5.2"),
    pytest.param("alice", False, id="pre-account-takeover-unverified-account-ASVS-2.5"),
]


@pytest.mark.parametrize(("login", "account_verified"), TAKEOVERS)
def test_email_takeover_is_refused(make_oidc_env: Any, login: str, account_verified: bool) -> None:
    """An address match joins an account only when both sides verified it: otherwise the
    callback is 409, links nothing and logs nobody in (mallory's provider account claims
    alice's address unverified; an unverified account may be a squat on the address)."""
    env = make_oidc_env("tokens")
    alice = _account(env, "alice@example.com", verified=account_verified)
    b = env.agent()
    answer = b.get(callback_path(sign_in(b, login)))
    assert answer.status_code == 409, answer.text
    assert asyncio.run(env.container.credential_store().list_for_user(alice.id, KIND)) == []
    assert "oidc_email_not_verified" in _reasons(env)
    _no_login(env)


def test_both_verified_links_the_existing_account(make_oidc_env: Any) -> None:
    """The control: verified on both sides signs in to the existing account and links."""
    env = make_oidc_env("tokens")
    alice = _account(env, "alice@example.com", verified=True)
    b = env.agent()
    answer = b.get(callback_path(sign_in(b, "alice")))
    assert answer.status_code == 200, answer.text
    assert env.me(**bearer(answer.json()["access_token"])).json()["id"] == alice.id
    linked = asyncio.run(env.container.credential_store().list_for_user(alice.id, KIND))
    assert [r.credential_id for r in linked] == [f"{PROVIDER}:alice"]


def test_signup_closed_is_403(make_oidc_env: Any) -> None:
    """``allow_signup: false``: an unknown identity is refused with a clear 403."""
    env = make_oidc_env("tokens", provider={"allow_signup": False})
    b = env.agent()
    answer = b.get(callback_path(sign_in(b, random_sub())))
    assert answer.status_code == 403, answer.text
    assert "turned off" in answer.json()["detail"]


# -- open redirect through the return URL --------------------------------------------------

OPEN_REDIRECTS = [
    pytest.param("//evil.example/x", id="protocol-relative-CWE-601-ASVS-5.1.5"),
    pytest.param("https://evil.example/", id="absolute-url-CWE-601"),
    pytest.param("/\\evil.example", id="slash-backslash-CWE-601"),
    pytest.param("\\\\evil.example", id="backslashes-CWE-601"),
    pytest.param("/%2F%2Fevil.example", id="encoded-double-slash-CWE-601"),
    pytest.param("%2F%2Fevil.example", id="encoded-leading-slashes-CWE-601"),
    pytest.param("/%5Cevil.example", id="encoded-backslash-CWE-601"),
    pytest.param("/%252F%252Fevil.example", id="double-encoded-slashes-CWE-601"),
    pytest.param("/ok%0d%0aSet-Cookie:%20x=1", id="encoded-CRLF-CWE-113"),
    pytest.param("/ok\r\nSet-Cookie: x=1", id="raw-CRLF-CWE-113"),
    pytest.param("/\tevil.example", id="tab-after-slash-CWE-601"),
    pytest.param("javascript:alert(1)", id="javascript-scheme-CWE-601"),
    pytest.param("/" + "a" * 3000, id="oversized-return-url"),
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_open_redirect_is_refused(make_oidc_env: Any, target: str) -> None:
    """``next`` must be a same-origin path: anything else is 400 before any redirect."""
    env = make_oidc_env("tokens")
    b = env.agent()
    answer = b.get(f"/auth/oidc/{PROVIDER}/login", params={"next": target})
    assert answer.status_code == 400, answer.text
    assert "location" not in answer.headers
    assert b.cookies == {}


# -- burst: one state, fifty callbacks ---------------------------------------------------------


@pytest.mark.parametrize("engine", ["memory", "sqlite", "redis"])
def test_burst_same_state_logs_in_once(
    make_oidc_env: Any, engine: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """50 concurrent callbacks with one state and cookie: exactly one login (take()),
    on every store engine."""
    config: dict[str, Any] = {"stores": engine}
    if engine == "sqlite":
        config["store"] = {"sqlite_path": str(tmp_path / "auth.sqlite3")}
    if engine == "redis":
        url = request.getfixturevalue("redis_url")
        config["store"] = {"redis_url": url, "namespace": f"oidc-{random_sub()}"}
    env = make_oidc_env("tokens", **config)
    b = env.agent()
    url = sign_in(b, random_sub())
    cookie = f"{FLOW_COOKIE}={b.cookies[FLOW_COOKIE]}"
    app = env.client.app

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            calls = [http.get(callback_path(url), headers={"Cookie": cookie}) for _ in range(50)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    codes = asyncio.run(burst())
    assert codes.count(200) == 1, codes
    assert codes.count(401) == 49, codes
    wins = [e for e in env.sink.events if e.kind == EventKind.LOGIN_SUCCEEDED]
    assert len(wins) == 1
