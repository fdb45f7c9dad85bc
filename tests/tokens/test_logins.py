"""Logins (refresh families) and the credential generation, on the service with a frozen
clock: absolute lifetime, the per-user bound, logout by access token, and "log out
everywhere" at the very clock reading a token was issued."""

from __future__ import annotations

import pytest
from support import FakeClock

from nexios_auth_di.exceptions import TokenError, TokenReused, TokenRevoked
from nexios_auth_di.stores.memory import MemoryRefreshFamilyStore, MemoryRevocationStore
from nexios_auth_di.tokens import TokenService
from nexios_auth_di.tokens.keys import KeyRing

DAY = 86400.0


def make_service(ring: KeyRing, clock: FakeClock, **options: float) -> TokenService:
    settings = {"access_ttl": 900, "refresh_ttl": 14 * DAY, "refresh_absolute_ttl": 30 * DAY}
    return TokenService(
        ring,
        revocations=MemoryRevocationStore(clock),
        families=MemoryRefreshFamilyStore(clock),
        clock=clock,
        **{**settings, **options},  # type: ignore[arg-type]
    )


async def login(service: TokenService, subject: str = "alice") -> tuple[str, str]:
    return await service.issue_login(subject, await service.current_generation(subject))


async def test_login_tokens_carry_family_generation_and_auth_time(
    ring: KeyRing, clock: FakeClock
) -> None:
    """Both tokens of a login name it (``fam``), its generation and its start, so one
    lookup can refuse the whole login."""
    service = make_service(ring, clock)
    access, refresh = await login(service)
    a = service.verifier.verify(access, "access")
    r = service.verifier.verify(refresh, "refresh")
    assert a["fam"] == r["fam"]
    assert a["gen"] == r["gen"] == 0.0
    assert a["auth_time"] == r["auth_time"] == clock()


async def test_a_login_ends_at_its_absolute_lifetime_however_often_it_rotates(
    ring: KeyRing, clock: FakeClock
) -> None:
    """RFC 9700 §4.14.2: rotating every 13 days never carries a login past 30 days, and
    no rotated refresh token outlives the login's end."""
    service = make_service(ring, clock)
    start = clock()
    end = start + 30 * DAY
    _, refresh = await login(service)
    for _ in range(3):  # day 13, 26 and 29.9
        clock.advance(13 * DAY if clock() - start < 26 * DAY else 3.9 * DAY)
        access, refresh = await service.refresh(refresh)
        for token, typ in ((access, "access"), (refresh, "refresh")):
            assert service.verifier.verify(token, typ)["exp"] <= end
    assert service.verifier.verify(refresh, "refresh")["exp"] == end
    clock.advance(0.1 * DAY)  # day 30: the login is over
    with pytest.raises(TokenError):
        await service.refresh(refresh)


async def test_refresh_refuses_past_the_absolute_end_even_with_leeway(
    ring: KeyRing, clock: FakeClock
) -> None:
    """With leeway the verifier would still accept a token at its exp; the login's end
    is checked on its own and refuses it."""
    service = make_service(ring, clock, leeway=60, refresh_absolute_ttl=DAY)
    _, refresh = await login(service)
    clock.advance(DAY)
    with pytest.raises(TokenRevoked) as info:
        await service.refresh(refresh)
    assert info.value.reason == "login_expired"


async def test_logout_with_the_access_token_alone_ends_the_login(
    ring: KeyRing, clock: FakeClock
) -> None:
    """Revoking a login's access token revokes its family: the refresh token dies too."""
    service = make_service(ring, clock)
    access, refresh = await login(service)
    await service.revoke(access)
    with pytest.raises(TokenRevoked):
        await service.refresh(refresh)


async def test_reuse_refuses_the_familys_access_tokens_at_once(
    ring: KeyRing, clock: FakeClock
) -> None:
    """RFC 9700 §4.14.2: after a replay, access tokens of that family are refused now,
    not when they expire."""
    service = make_service(ring, clock)
    first_access, refresh = await login(service)
    second_access, _ = await service.refresh(refresh)
    with pytest.raises(TokenReused):
        await service.refresh(refresh)
    for access in (first_access, second_access):
        with pytest.raises(TokenRevoked):
            await service.verify(access)


async def test_revoke_all_at_the_same_clock_reading_refuses_the_token(
    ring: KeyRing, clock: FakeClock
) -> None:
    """The clock never moves: a login issued at the very reading of "log out everywhere"
    is refused (strict generation compare), one issued after it works, and a second
    logout-all at that same reading refuses that one too."""
    service = make_service(ring, clock)
    access, refresh = await login(service)
    await service.revoke_all("alice")
    with pytest.raises(TokenRevoked):
        await service.verify(access)
    with pytest.raises(TokenRevoked):
        await service.refresh(refresh)
    again, _ = await login(service)
    assert (await service.verify(again))["sub"] == "alice"
    await service.revoke_all("alice")
    with pytest.raises(TokenRevoked):
        await service.verify(again)


async def test_issue_under_a_stale_generation_fails_and_leaves_nothing_live(
    ring: KeyRing, clock: FakeClock
) -> None:
    """A login whose generation moved on while its password was checked gets nothing."""
    service = make_service(ring, clock)
    generation = await service.current_generation("alice")
    await service.revoke_all("alice")  # a password change lands during argon2
    with pytest.raises(TokenRevoked) as info:
        await service.issue_login("alice", generation)
    assert info.value.reason == "stale_generation"
    assert await service.families.end_all("alice") == []


async def test_logins_beyond_the_per_user_bound_end_the_oldest(
    ring: KeyRing, clock: FakeClock
) -> None:
    """With max_families_per_user=3, a fourth login ends the oldest one at once (its
    access and refresh tokens); the other three and other users are untouched."""
    service = make_service(ring, clock, max_families_per_user=3)
    logins = []
    for _ in range(4):
        logins.append(await login(service))
        clock.advance(1)
    bob = await login(service, "bob")
    oldest_access, oldest_refresh = logins[0]
    with pytest.raises(TokenRevoked):
        await service.verify(oldest_access)
    with pytest.raises(TokenRevoked):
        await service.refresh(oldest_refresh)
    for access, refresh in [*logins[1:], bob]:
        assert (await service.verify(access))["typ"] == "access"
        await service.refresh(refresh)


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param({"gen": "0"}, id="gen as a string (RFC 7519 §2 NumericDate-like)"),
        pytest.param({"gen": True}, id="gen as a boolean"),
        pytest.param({"auth_time": "then"}, id="auth_time not a number (OIDC Core §2)"),
    ],
)
async def test_reserved_login_claims_cannot_be_set_by_callers(
    ring: KeyRing, clock: FakeClock, claim: dict[str, object]
) -> None:
    """``gen``/``auth_time`` are the service's: app claims may not set them."""
    service = make_service(ring, clock)
    with pytest.raises(Exception, match="reserved claims"):
        service.create_access_token("alice", **claim)
