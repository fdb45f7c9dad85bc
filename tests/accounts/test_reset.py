"""Password reset over HTTP: the flow, the attacks on its token, enumeration, bursts and
the race with a password change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from accounts_support import NEW_PASSWORD, PASSWORD, Env, bearer

from nexios_auth_di.events import EventKind

REQUEST, CONFIRM = "/auth/password-reset/request", "/auth/password-reset/confirm"


async def reset_token(env: Env, email: str = "alice@example.com") -> str:
    response = await env.post(REQUEST, {"email": email})
    assert response.status_code == 202
    return await env.token_from_mail(email, "reset")


async def test_reset_flow_start_to_finish(env: Env) -> None:
    """A mailed link sets the new password; the old one and every credential stop working."""
    await env.register()
    tokens = await env.login()
    key = await env.post(
        "/auth/api-keys",
        {"password": PASSWORD, "name": "ci"},
        headers=bearer(tokens["access_token"]),
    )
    assert key.status_code == 201
    token = await reset_token(env)
    done = await env.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    assert (
        await env.post("/auth/login", {"username": "alice", "password": PASSWORD})
    ).status_code == 401
    await env.login("alice", NEW_PASSWORD)
    env.client.cookies.clear()
    assert (await env.client.get("/me", headers=bearer(tokens["access_token"]))).status_code == 401
    refresh = await env.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert (
        await env.client.get("/me", headers={"X-API-Key": key.json()["key"]})
    ).status_code == 401
    kinds = [e.kind for e in env.sink.events]
    assert EventKind.PASSWORD_RESET_REQUESTED in kinds
    assert EventKind.PASSWORD_RESET_SENT in kinds
    assert EventKind.PASSWORD_RESET in kinds


async def test_mail_has_both_parts_and_the_configured_link(
    make_env: Callable[..., Awaitable[Env]],
) -> None:
    """The reset mail carries the link in text and HTML, under accounts.public_url."""
    env = await make_env(accounts={"public_url": "https://app.example"})
    await env.register()
    await reset_token(env)
    mail = env.mail.outbox[-1]
    assert mail.subject == "Reset your password"
    assert "https://app.example/reset-password?token=" in mail.text
    assert 'href="https://app.example/reset-password?token=' in mail.html


async def _replayed(env: Env) -> str:
    token = await reset_token(env)
    first = await env.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD})
    assert first.status_code == 200
    return token


async def _expired(env: Env) -> str:
    token = await reset_token(env)
    env.clock.advance(1801)
    return token


async def _other_user(env: Env) -> str:
    """Bob's link, tampered to name alice: the signature breaks."""
    await env.register("bob", "bob@example.com")
    token = await reset_token(env, "bob@example.com")
    return _tamper_user(env, token)


def _tamper_user(env: Env, token: str) -> str:
    import base64
    import json

    payload, dot, rest = token.partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    record = env.repo._alice_id  # set by the test
    data["u"] = record
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return forged + dot + rest


async def _after_password_change(env: Env) -> str:
    token = await reset_token(env)
    tokens = await env.login()
    changed = await env.post(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": "changed in between 1"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 200
    return token


async def _tampered(env: Env) -> str:
    token = await reset_token(env)
    # a middle character of the signature: the last one may carry only padding bits
    i = len(token) - 10
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


async def _verification_token(env: Env) -> str:
    """A valid verification link, offered as a reset token (other salt)."""
    return await env.token_from_mail("alice@example.com", "verify")


async def _for_a_deleted_binding(env: Env) -> str:
    """A second link minted before the first was used: the first use changes the hash."""
    first = await reset_token(env)
    second = await reset_token(env)
    assert (
        await env.post(CONFIRM, {"token": first, "new_password": NEW_PASSWORD})
    ).status_code == 200
    return second


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(_replayed, id="replayed-single-use-ASVS-6.4.1"),
        pytest.param(_expired, id="expired-30min-ASVS-6.4.1"),
        pytest.param(_other_user, id="forged-for-another-user-ASVS-6.4.2"),
        pytest.param(_after_password_change, id="after-password-change-ASVS-6.4.1"),
        pytest.param(_tampered, id="tampered-signature-ASVS-6.4.2"),
        pytest.param(_verification_token, id="verification-token-as-reset-ASVS-6.4.2"),
        pytest.param(_for_a_deleted_binding, id="older-link-after-reset-ASVS-6.4.1"),
    ],
)
async def test_bad_reset_tokens_are_refused(
    env: Env, attack: Callable[[Env], Awaitable[str]]
) -> None:
    """Every bad reset token gets the same 400 and the password it would set never works."""
    alice = await env.register()
    env.repo._alice_id = alice["id"]
    token = await attack(env)
    answer = await env.post(CONFIRM, {"token": token, "new_password": "attacker chosen pw 9"})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "bad_request",
        "detail": "The reset link is invalid or has expired.",
    }
    bad = await env.post("/auth/login", {"username": "alice", "password": "attacker chosen pw 9"})
    assert bad.status_code == 401


async def test_reset_token_as_verification_token_is_refused(env: Env) -> None:
    """A reset link never verifies an address (another purpose, another salt)."""
    await env.register()
    token = await reset_token(env)
    answer = await env.post("/auth/verify-email/confirm", {"token": token})
    assert answer.status_code == 400
    assert not (await env.repo.get_by_username("alice")).email_verified


def _shape(response: Any) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date",)}
    return response.status_code, response.json(), headers


async def test_reset_request_does_not_reveal_which_addresses_exist(env: Env) -> None:
    """Known and unknown addresses get the same status, body and headers, and only the
    known one gets a mail (OWASP ASVS 6.3.8, account enumeration)."""
    await env.register()
    known = await env.post(REQUEST, {"email": "alice@example.com"})
    unknown = await env.post(REQUEST, {"email": "nobody@example.com"})
    assert _shape(known) == _shape(unknown)
    assert known.status_code == 202
    await env.drain()
    assert [m.to for m in env.mail.outbox if m.kind == "reset"] == ["alice@example.com"]


async def test_reset_request_timing_is_measured_not_asserted(env: Env) -> None:
    """The response path for known and unknown addresses does the same work: both are
    answered before the lookup runs (no background job has finished when they answer)."""
    await env.register()
    await env.drain()
    for address in ("alice@example.com", "nobody@example.com"):
        before = len(env.mail.outbox)
        answer = await env.post(REQUEST, {"email": address})
        assert answer.status_code == 202
        assert len(env.mail.outbox) == before  # the lookup and the send are still queued
        assert env.container.background().pending >= 1
        await env.drain()


async def test_reset_request_burst_is_throttled_per_address_alike(
    make_env: Callable[..., Awaitable[Env]],
) -> None:
    """A 60-request burst per address: exactly the per-address limit passes, for a known
    and an unknown address alike, and the 429s are identical (ASVS 6.3.8, 2.4.1)."""
    env = await make_env(accounts={"reset_per_address": [3, 3600], "reset_per_ip": [1000, 3600]})
    await env.register()
    results: dict[str, list[Any]] = {}
    for address in ("alice@example.com", "nobody@example.com"):
        replies = await asyncio.gather(*(env.post(REQUEST, {"email": address}) for _ in range(60)))
        results[address] = replies
        assert sorted(r.status_code for r in replies).count(202) == 3
    refused = [next(_shape(r) for r in rs if r.status_code == 429) for rs in results.values()]
    assert refused[0] == refused[1]
    await env.drain()
    assert len([m for m in env.mail.to("alice@example.com") if m.kind == "reset"]) == 3


async def test_reset_requests_are_throttled_per_ip(make_env: Callable[..., Awaitable[Env]]) -> None:
    """One IP spraying addresses is cut off at accounts.reset_per_ip; another IP is not."""
    env = await make_env(accounts={"reset_per_ip": [5, 3600]})
    codes = [
        (
            await env.post(
                REQUEST, {"email": f"u{i}@example.com"}, headers={"X-Test-Peer": "10.0.0.1"}
            )
        ).status_code
        for i in range(8)
    ]
    assert codes == [202] * 5 + [429] * 3
    other = await env.post(
        REQUEST, {"email": "u0@example.com"}, headers={"X-Test-Peer": "10.0.0.2"}
    )
    assert other.status_code == 202


async def test_fifty_parallel_confirms_with_one_token_have_one_winner(env: Env) -> None:
    """50 concurrent confirms of one link: exactly one sets a password (OneTimeStore claim)."""
    await env.register()
    token = await reset_token(env)
    replies = await asyncio.gather(
        *(
            env.post(CONFIRM, {"token": token, "new_password": f"parallel choice {i:02d}"})
            for i in range(50)
        )
    )
    codes = [r.status_code for r in replies]
    assert codes.count(200) == 1
    assert codes.count(400) == 49
    winner = codes.index(200)
    await env.login("alice", f"parallel choice {winner:02d}")


class HeldHash:
    """Wraps the password service: the first ``hash`` of ``password`` waits at a gate."""

    def __init__(self, inner: Any, password: str) -> None:
        self.inner, self.password = inner, password
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def hash(self, password: str) -> str:
        result: str = await self.inner.hash(password)
        if password == self.password and not self.reached.is_set():
            self.reached.set()
            await self.release.wait()
        return result


async def test_reset_held_mid_flight_while_the_owner_changes_password(env: Env) -> None:
    """Gate: a confirm held after argon2 while the owner changes the password must not
    overwrite it; the owner's new password and new login stay, the link is dead."""
    from dependency_injector import providers

    await env.register()
    token = await reset_token(env)
    held = HeldHash(env.container.password_service(), "reset held password")
    env.container.password_service.override(providers.Object(held))
    confirm = asyncio.create_task(
        env.post(CONFIRM, {"token": token, "new_password": "reset held password"})
    )
    await held.reached.wait()
    tokens = await env.login()
    changed = await env.post(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": "owner's own choice"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 200
    held.release.set()
    answer = await confirm
    assert answer.status_code == 400
    env.client.cookies.clear()
    assert (
        await env.client.get("/me", headers=bearer(changed.json()["access_token"]))
    ).status_code == 200
    await env.login("alice", "owner's own choice")
    bad = await env.post("/auth/login", {"username": "alice", "password": "reset held password"})
    assert bad.status_code == 401


async def test_weak_new_password_keeps_the_link(env: Env) -> None:
    """A refused new password (too short) does not spend the link."""
    await env.register()
    token = await reset_token(env)
    assert (await env.post(CONFIRM, {"token": token, "new_password": "short"})).status_code == 400
    assert (
        await env.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD})
    ).status_code == 200


async def test_inactive_account_gets_no_mail(env: Env) -> None:
    """A deactivated account is answered like any address, and no link is sent."""
    alice = await env.register()
    await env.repo.set_active(alice["id"], False)
    assert (await env.post(REQUEST, {"email": "alice@example.com"})).status_code == 202
    await env.drain()
    assert [m for m in env.mail.outbox if m.kind == "reset"] == []
