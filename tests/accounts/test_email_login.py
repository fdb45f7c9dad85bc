"""Users with email over HTTP: registration, login by address, the shared throttle,
verification, require_verified_email, and changing the address."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from accounts_support import PASSWORD, Env, bearer

from nexios_auth_di.events import EventKind


async def test_register_with_email_stores_the_normalised_address(env: Env) -> None:
    """The address is validated and stored in email-validator's normalised form."""
    data = await env.register("alice", "Alice@EXAMPLE.com")
    assert data["email"] == "Alice@example.com"
    assert data["email_verified"] is False
    record = await env.repo.get_by_email("alice@example.COM")
    assert record is not None
    assert record.id == data["id"]


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("not-an-address", id="no-at-sign-RFC5322-3.4.1"),
        pytest.param("a@b@example.com", id="two-at-signs-RFC5322-3.4.1"),
        pytest.param("alice@", id="empty-domain-RFC5322-3.4.1"),
        pytest.param("a" * 250 + "@example.com", id="over-254-chars-RFC5321-4.5.3.1.3"),
        pytest.param("alice@exa mple.com", id="space-in-domain-RFC5322-3.4.1"),
    ],
)
async def test_bad_addresses_are_refused_at_registration(env: Env, email: str) -> None:
    """A malformed address is a 400 naming the field, and no account is made."""
    answer = await env.post(
        "/auth/register", {"username": "alice", "password": PASSWORD, "email": email}
    )
    assert answer.status_code == 400
    assert await env.repo.get_by_username("alice") is None


async def test_taken_email_answers_like_a_taken_username(env: Env) -> None:
    """A taken address is the same 409 shape as a taken name (no new enumeration signal
    beyond register's, which is throttled per IP); case variants are the same address."""
    await env.register("alice", "alice@example.com")
    name = await env.post(
        "/auth/register", {"username": "alice", "password": PASSWORD, "email": "x@example.com"}
    )
    mail = await env.post(
        "/auth/register", {"username": "bob", "password": PASSWORD, "email": "ALICE@example.com"}
    )
    assert name.status_code == mail.status_code == 409
    assert set(name.json()) == set(mail.json()) == {"error", "detail"}
    assert await env.repo.get_by_username("bob") is None


async def test_two_racing_signups_with_one_address_make_one_account(env: Env) -> None:
    """20 parallel sign-ups with one address (different names): one account has it."""
    replies = await asyncio.gather(
        *(
            env.post(
                "/auth/register",
                {"username": f"user{i}", "password": PASSWORD, "email": "same@example.com"},
            )
            for i in range(20)
        )
    )
    codes = [r.status_code for r in replies]
    assert codes.count(201) == 1
    assert set(codes) <= {201, 409, 429, 503}  # 503: the hashing queue shed (Overloaded)


async def test_login_by_username_or_address(env: Env) -> None:
    """The username field takes the name or the address (any case)."""
    await env.register()
    await env.login("alice")
    await env.login("ALICE@example.com")


async def test_alternating_name_and_address_shares_one_throttle(
    make_env: Callable[..., Awaitable[Env]],
) -> None:
    """Attack row (ASVS 6.3.1): alternating "alice" and her address does not double the
    guesses; both forms count on the account's one counter."""
    env = await make_env(throttle={"per_account_ip": [4, 300], "per_account": [100, 300]})
    await env.register()
    codes = []
    for i in range(8):
        typed = "alice" if i % 2 else "alice@example.com"
        answer = await env.post("/auth/login", {"username": typed, "password": "wrong guess!"})
        codes.append(answer.status_code)
    assert codes[:4] == [401] * 4
    assert codes[4:] == [429] * 4


async def test_verification_flow(env: Env) -> None:
    """Register sends a link; confirming it marks the address verified; request resends."""
    await env.register()
    token = await env.token_from_mail("alice@example.com", "verify")
    done = await env.post("/auth/verify-email/confirm", {"token": token})
    assert done.status_code == 200
    assert done.json() == {"email": "alice@example.com", "email_verified": True}
    assert (await env.repo.get_by_username("alice")).email_verified
    again = await env.post("/auth/verify-email/confirm", {"token": token})
    assert again.status_code == 200  # harmless: already verified
    kinds = [e.kind for e in env.sink.events]
    assert EventKind.EMAIL_VERIFIED in kinds


async def test_verification_request_needs_a_login_and_sends(env: Env) -> None:
    """The request route is for signed-in users (401 without) and answers 202."""
    await env.register()
    assert (await env.post("/auth/verify-email/request")).status_code == 401
    tokens = await env.login()
    await env.drain()
    before = len(env.mail.outbox)
    sent = await env.post("/auth/verify-email/request", headers=bearer(tokens["access_token"]))
    assert sent.status_code == 202
    await env.drain()
    assert len(env.mail.outbox) == before + 1


async def test_require_verified_email_refuses_login_until_verified(
    make_env: Callable[..., Awaitable[Env]],
) -> None:
    """With accounts.require_verified_email, a right password is refused with reason
    email_not_verified (and a fresh link); a wrong one gets the usual 401."""
    env = await make_env(accounts={"require_verified_email": True})
    await env.register()
    wrong = await env.post("/auth/login", {"username": "alice", "password": "not it at all"})
    assert wrong.status_code == 401
    assert "reason" not in wrong.json()
    right = await env.post("/auth/login", {"username": "alice", "password": PASSWORD})
    assert right.status_code == 403
    assert right.json()["reason"] == "email_not_verified"
    assert "access_token" not in right.json()
    token = await env.token_from_mail("alice@example.com", "verify")
    assert (await env.post("/auth/verify-email/confirm", {"token": token})).status_code == 200
    await env.login()


async def test_change_email_rechecks_password_and_unverifies(env: Env) -> None:
    """POST /auth/email needs the password, resets verification and mails the new address;
    the link sent to the old address no longer verifies anything."""
    await env.register()
    old_link = await env.token_from_mail("alice@example.com", "verify")
    tokens = await env.login()
    auth = bearer(tokens["access_token"])
    wrong = await env.post(
        "/auth/email", {"email": "new@example.com", "password": "nope nope"}, headers=auth
    )
    assert wrong.status_code == 403
    moved = await env.post(
        "/auth/email", {"email": "new@example.com", "password": PASSWORD}, headers=auth
    )
    assert moved.status_code == 200
    assert moved.json() == {"email": "new@example.com", "email_verified": False}
    stale = await env.post("/auth/verify-email/confirm", {"token": old_link})
    assert stale.status_code == 400  # bound to the old address
    fresh = await env.token_from_mail("new@example.com", "verify")
    assert (await env.post("/auth/verify-email/confirm", {"token": fresh})).status_code == 200
    await env.register("bob", "bob@example.com")
    taken = await env.post(
        "/auth/email", {"email": "BOB@example.com", "password": PASSWORD}, headers=auth
    )
    assert taken.status_code == 409


async def test_expired_verification_link_is_refused(env: Env) -> None:
    """A verification link past accounts.verify_token_ttl is a 400."""
    await env.register()
    token = await env.token_from_mail("alice@example.com", "verify")
    env.clock.advance(2 * 86400 + 1)
    assert (await env.post("/auth/verify-email/confirm", {"token": token})).status_code == 400


async def test_unverified_login_loop_is_not_a_mail_cannon(
    make_env: Callable[..., Awaitable[Env]],
) -> None:
    """Attack row (ASVS 2.4.1, resource abuse): a right password repeated while unverified
    sends fresh links only within the per-address mail counter; every login gets 403."""
    env = await make_env(accounts={"require_verified_email": True, "reset_per_address": [2, 3600]})
    await env.register()
    for _ in range(6):
        answer = await env.post("/auth/login", {"username": "alice", "password": PASSWORD})
        assert answer.status_code == 403
    await env.drain()
    assert len([m for m in env.mail.outbox if m.kind == "verify"]) == 1 + 2


SQUATS = [
    pytest.param("victim@example.com", None, id="address-as-username-no-email-F7"),
    pytest.param("VICTIM@example.com", "me@example.com", id="case-variant-other-email-F7"),
    pytest.param("future@example.com", "other@example.com", id="presquat-future-address-F7"),
]


@pytest.mark.parametrize(("username", "email"), SQUATS)
async def test_a_username_with_at_must_be_its_own_address(
    env: Env, username: str, email: str | None
) -> None:
    """Attack row (account squatting, ASVS 2.2 / CWE-287): a username spelt like an
    address that is not the account's own is a 400, so nobody can capture another
    person's email login (login reads a username first)."""
    body = {"username": username, "password": PASSWORD}
    if email is not None:
        body["email"] = email
    answer = await env.post("/auth/register", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request"
    assert await env.repo.get_by_username(username) is None


async def test_own_address_as_username_works(env: Env) -> None:
    """The control: a username that is the account's own address registers and logs in
    by that address."""
    await env.register("Ada@example.com", "ada@example.com")
    assert "access_token" in await env.login("ada@example.com")


async def test_an_address_spelt_like_another_username_is_not_available(env: Env) -> None:
    """An account whose username is an address (its own, then moved away) keeps that
    name: nobody else may take the address at sign-up or by changing theirs (409), or a
    login with it would reach the first account."""
    await env.register("ada@example.com", "ada@example.com")
    auth = bearer((await env.login("ada@example.com"))["access_token"])
    moved = await env.post("/auth/email", {"email": "ada2@example.com", "password": PASSWORD},
                           headers=auth)  # fmt: skip
    assert moved.status_code == 200
    signup = await env.post(
        "/auth/register", {"username": "eve", "password": PASSWORD, "email": "ADA@example.com"}
    )
    assert signup.status_code == 409
    await env.register("bob", "bob@example.com")
    bob = bearer((await env.login("bob"))["access_token"])
    change = await env.post("/auth/email", {"email": "ada@example.com", "password": PASSWORD},
                            headers=bob)  # fmt: skip
    assert change.status_code == 409
