"""OIDC login against the real oidc-provider: the full redirect flow over HTTP, the
login modes and MFA, accounts (sign-up, verified-email linking, explicit link, unlink)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from oidc_helpers import PROVIDER, callback_path, random_sub, sign_in, walk_provider
from route_helpers import PASSWORD, bearer

from nexios_auth_di.events import EventKind
from nexios_auth_di.oidc.identities import KIND, has_usable_password


def _login(env: Any, login: str, next_url: str | None = None) -> Any:
    b = env.browser()
    done = b.get(callback_path(sign_in(b, login, next_url)))
    return b, done


def test_full_flow_creates_a_passwordless_user(make_oidc_env: Any) -> None:
    """A first sign-in walks the provider's login and consent, then issues our tokens
    for a new account with the provider's verified email and no usable password."""
    env = make_oidc_env("tokens")
    sub = random_sub()
    b, done = _login(env, sub, "/dashboard?tab=1")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["next"] == "/dashboard?tab=1"
    assert "no-store" in done.headers["cache-control"]
    me = env.me(**bearer(body["access_token"]))
    assert me.status_code == 200
    record = asyncio.run(env.repo.get_by_id(me.json()["id"]))
    assert record is not None
    assert record.email == f"{sub}@example.com"
    assert record.email_verified is True
    assert not has_usable_password(record)
    linked = asyncio.run(env.container.credential_store().get(KIND, f"{PROVIDER}:{sub}"))
    assert linked is not None
    assert linked.user_id == record.id
    assert b.cookies == {}  # the flow cookie was cleared
    methods = [e.detail.get("method") for e in env.sink.events if e.kind == EventKind.LOGIN_SUCCEEDED]
    assert methods == ["oidc"]


def test_second_sign_in_finds_the_same_account(make_oidc_env: Any) -> None:
    """The same (provider, sub) signs in to the same account the next time."""
    env = make_oidc_env("tokens")
    sub = random_sub()
    first = _login(env, sub)[1].json()["access_token"]
    second = _login(env, sub)[1].json()["access_token"]
    ids = {env.me(**bearer(t)).json()["id"] for t in (first, second)}
    assert len(ids) == 1
