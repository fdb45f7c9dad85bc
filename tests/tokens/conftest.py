"""Fixtures for the token tests: a frozen clock, a key ring and a service over memory stores."""

from __future__ import annotations

import secrets

import pytest
from support import FakeClock
from support.attack_cases import AttackKit
from token_support import AUDIENCE, ISSUER

from nexios_auth_di.stores.memory import MemoryRefreshFamilyStore, MemoryRevocationStore
from nexios_auth_di.tokens import TokenService
from nexios_auth_di.tokens.keys import KeyRing


@pytest.fixture
def secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ring(secret: str) -> KeyRing:
    return KeyRing.from_secret(secret)


@pytest.fixture
def service(ring: KeyRing, clock: FakeClock) -> TokenService:
    return TokenService(
        ring,
        revocations=MemoryRevocationStore(clock),
        families=MemoryRefreshFamilyStore(clock),
        issuer=ISSUER,
        audience=AUDIENCE,
        clock=clock,
    )


@pytest.fixture
def kit(secret: str) -> AttackKit:
    return AttackKit.create(secret, issuer=ISSUER, audience=AUDIENCE)
