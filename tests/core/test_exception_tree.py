"""App mistakes met at run time raise the package's own exceptions, which still match the
builtin classes older ``except`` clauses named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nexios_auth_di.base import AuthenticationBackend, SimpleUser, normalize_result
from nexios_auth_di.exceptions import AuthError, ContractError, MalformedData, UsageError
from nexios_auth_di.sessions.csrf import csrf_token, scope_of
from nexios_auth_di.sessions.middleware import login
from nexios_auth_di.strict_json import STRICT_DECODER


async def _login_without_middleware() -> None:
    await login({"type": "http", "headers": []}, 1)


async def _sync(fn: Callable[[], Any]) -> None:
    fn()


CASES: list[tuple[str, Callable[[], Any], type[AuthError], type[Exception]]] = [
    ("csrf_token() with no SessionMiddleware",
     lambda: _sync(lambda: csrf_token({"type": "http"})), UsageError, RuntimeError),
    ("login() with no SessionMiddleware", _login_without_middleware, UsageError, RuntimeError),
    ("neither a Request nor a scope", lambda: _sync(lambda: scope_of(object())), ContractError,
     TypeError),
    ("a backend returning three items",
     lambda: _sync(lambda: normalize_result(AuthenticationBackend(), (SimpleUser(1), "x", 1))),
     ContractError, TypeError),
    ("duplicate JSON member names (internal parse error)",
     lambda: _sync(lambda: STRICT_DECODER.decode('{"a": 1, "a": 2}')), MalformedData,
     ValueError),
]  # fmt: skip


@pytest.mark.parametrize(("what", "call", "ours", "builtin"), CASES, ids=[c[0] for c in CASES])
async def test_misuse_raises_package_exceptions(
    what: str, call: Callable[[], Any], ours: type[AuthError], builtin: type[Exception]
) -> None:
    """Each misuse raises an AuthError subclass that is also the builtin it used to be."""
    with pytest.raises(ours) as caught:
        await call()
    assert isinstance(caught.value, AuthError), what
    assert isinstance(caught.value, builtin), what
