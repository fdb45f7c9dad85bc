"""Test helpers: provider overrides instead of patching request scope.

Importable without pytest; the fixtures live in ``nexios_auth_di.pytest_plugin``.

The guide's ``client.app.scope["user"] = MockUser()`` cannot work on real Nexios (there
is no app-level scope). Here tests override providers instead: the same code path runs,
minus the credential.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dependency_injector import providers

from nexios_auth_di.container import AuthContainer
from nexios_auth_di.policies import Policy

__all__ = [
    "TESTING_CONFIG",
    "make_test_container",
    "override_loader",
    "override_policy",
    "override_user",
]

#: a complete config for tests: memory stores, cheap hashing, a 32-byte+ secret
TESTING_CONFIG: dict[str, Any] = {
    "profile": "testing",
    "backends": ["jwt", "session", "api_key"],
    "jwt": {"secret_key": "testing-secret-key-not-for-production-0123456789"},
    "session": {"secret_key": "testing-session-key-not-for-production-0123456789"},
    "stores": "memory",
    "passwords": {"profile": "test_only_cheap", "min_length": 8},
}


@contextmanager
def override_user(container: AuthContainer, user: Any) -> Iterator[Any]:
    """Every request inside the block sees ``user``: no token, no patching."""
    with container.user_override.override(providers.Object(user)):
        yield user


@contextmanager
def override_loader(container: AuthContainer, loader: Callable[[Any], Any]) -> Iterator[None]:
    """Swap the user loader; applies on the next request even to built backends."""
    with container.user_loader.override(providers.Object(loader)):
        yield


@contextmanager
def override_policy(container: AuthContainer, name: str, policy: Policy) -> Iterator[None]:
    """Replace one named policy for the duration of the block."""
    current = dict(container.policies())
    current[name] = policy
    with container.policies.override(providers.Object(current)):
        yield


def make_test_container(users: dict[str, Any] | None = None, **config: Any) -> AuthContainer:
    """A container on the testing profile whose loader reads ``users`` by identity."""
    table = users if users is not None else {}  # by reference: tests may add users later
    container = AuthContainer()
    container.config.from_dict({**TESTING_CONFIG, **config})
    container.user_loader.override(providers.Object(lambda identity: table.get(str(identity))))
    return container
