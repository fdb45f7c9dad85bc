"""LoginThrottle: reserve-before-verify over three counters (account+IP, IP, account),
backoff instead of lockout, refunds, and no usernames or IPs in the storage."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from support import FakeClock

from nexios_auth_di.exceptions import StoreUnavailable, Throttled
from nexios_auth_di.throttle import LoginThrottle, MemoryLimiter, limiter_for

WIDE = (1000, 300)


def make(limiter: Any = None, clock: FakeClock | None = None, **limits: Any) -> LoginThrottle:
    """A throttle on memory; every limit wide unless the test narrows it."""
    options: dict[str, Any] = {
        "per_account": WIDE,
        "per_ip": WIDE,
        "per_account_ip": WIDE,
        "register_per_ip": WIDE,
        "base_delay": 1.0,
        "max_delay": 900.0,
    }
    options |= limits
    return LoginThrottle(limiter or MemoryLimiter(), clock=clock or FakeClock(), **options)


async def _try(
    t: LoginThrottle, account: str, ip: str, *, known_source: bool = False
) -> int | None:
    """Reserve one guess: None when granted (and counted), else the Retry-After."""
    try:
        await t.reserve(account, ip, known_source=known_source)
    except Throttled as exc:
        return exc.retry_after
    return None


async def test_account_backoff_doubles_and_is_capped() -> None:
    """Past the limit each guess waits twice as long, up to max_delay; a refused guess
    moves nothing (OWASP ASVS V2.2.1: backoff, not lockout)."""
    clock = FakeClock()
    t = make(clock=clock, per_account=(3, 300), max_delay=20)
    assert [await _try(t, "alice", f"192.0.2.{n}") for n in range(3)] == [None, None, None]
    waits = []
    for _ in range(7):
        wait = await _try(t, "alice", "192.0.2.1")
        assert wait is not None
        waits.append(wait)
        clock.advance(wait - 0.5)
        assert await _try(t, "alice", "192.0.2.1") == 1  # not yet
        clock.advance(0.5)
        assert await _try(t, "alice", "192.0.2.1") is None  # granted, counted, locks again
    assert waits == [1, 2, 4, 8, 16, 20, 20]
    assert await _try(t, "bob", "192.0.2.1") is None  # no collateral lockout


async def test_flood_from_one_ip_spends_only_that_ips_allowance() -> None:
    """50 guesses at one account from one IP: 5 granted; the refused 45 never reach the
    account-wide counter, so other IPs (the owner) still have its whole budget."""
    t = make(per_account_ip=(5, 300), per_account=(30, 300), per_ip=(100, 300))
    flood = [await _try(t, "alice", "203.0.113.66") for _ in range(50)]
    assert flood.count(None) == 5
    others = [await _try(t, "alice", f"198.51.100.{n}") for n in range(25)]
    assert others == [None] * 25  # 5 + 25 = the account's 30
    assert await _try(t, "alice", "198.51.100.200") is not None  # now the account backs off


async def test_success_clears_only_its_source_and_refunds_the_rest() -> None:
    """A success forgets the failures of the source that knew the password; the IP and
    the account-wide counters get that attempt back and keep every other failure, or one
    valid account would reset the IP limit and each owner login would reset a botnet's
    account-wide budget."""
    clock = FakeClock()
    t = make(clock=clock, per_account=(3, 300), per_ip=(3, 300), per_account_ip=(2, 300))
    await t.reserve("alice", "192.0.2.1")
    await t.reserve("alice", "192.0.2.1")
    assert await _try(t, "alice", "192.0.2.1") is not None  # this source backs off
    await t.reserve("alice", "192.0.2.9")  # the account's 3rd failure, from elsewhere
    await t.reserve("alice", "198.51.100.7", known_source=True)  # the owner mistypes once
    owner = await t.reserve("alice", "198.51.100.7", known_source=True)
    await t.succeeded(owner)
    assert await _try(t, "alice", "198.51.100.7", known_source=True) is None  # forgotten
    assert await _try(t, "alice", "198.51.100.7", known_source=True) is None
    assert await _try(t, "alice", "192.0.2.1") is not None  # another source's stay
    assert await _try(t, "alice", "203.0.113.5") is not None  # and the account-wide ones


async def test_known_source_skips_the_exhausted_account_counter() -> None:
    """Many addresses exhausting the account-wide counter cannot lock the owner out
    where they signed in before; a new address still backs off, and a known source still
    has its own (account, IP) limit."""
    t = make(per_account=(5, 300), per_ip=(100, 300), per_account_ip=(2, 300))
    for n in range(5):
        await t.reserve("alice", f"203.0.113.{n}")
    assert await _try(t, "alice", "198.51.100.1") is not None  # new place: backoff
    assert await _try(t, "alice", "192.0.2.7", known_source=True) is None
    assert await _try(t, "alice", "192.0.2.7", known_source=True) is None
    assert await _try(t, "alice", "192.0.2.7", known_source=True) is not None  # its own 2


async def test_shed_guess_is_given_back_to_the_account_not_the_ip() -> None:
    """``release`` (the hashing queue shed the request): the account's counters get the
    guess back, the IP's keep it, so a shed flood still spends its IP budget."""
    t = make(per_account_ip=(1, 300), per_account=(1, 300), per_ip=(2, 300))
    await t.release(await t.reserve("alice", "192.0.2.1"))
    assert await _try(t, "alice", "192.0.2.1") is None  # the account was not charged
    assert await _try(t, "bob", "192.0.2.1") is not None  # the IP was: 2 of 2 used
    r = make(register_per_ip=(1, 3600))
    await r.release(await r.reserve_registration("192.0.2.7"))  # registration: IP only
    with pytest.raises(Throttled):
        await r.reserve_registration("192.0.2.7")


async def test_per_ip_limit_spans_accounts() -> None:
    """Spraying many usernames from one IP trips the per-IP backoff; other IPs are fine."""
    t = make(per_ip=(4, 300))
    assert [await _try(t, f"user{i}", "198.51.100.7") for i in range(4)] == [None] * 4
    assert await _try(t, "fresh-user", "198.51.100.7") == 1
    assert await _try(t, "fresh-user", "198.51.100.8") is None


async def test_refused_guess_gives_back_what_it_took() -> None:
    """When a looser counter refuses, the grant already taken on a tighter one is
    released, so a refused guess costs the account nothing."""
    t = make(per_account_ip=(1, 300), per_ip=(2, 300), base_delay=100.0)
    await t.reserve("a", "192.0.2.9")
    await t.reserve("b", "192.0.2.9")  # the IP now backs off for 100 s
    assert await _try(t, "c", "192.0.2.9") == 100
    account_ip = t.login_rules("c", "192.0.2.9")[0]
    assert (await t.limiter.reserve(account_ip, t.clock())).allowed  # was given back


@pytest.mark.parametrize("variant", ["alice", "Alice", " ALICE ", "alice\t", "ＡＬＩＣＥ"])
async def test_username_variants_share_one_counter(variant: str) -> None:
    """Case, padding and width variants count as one account (they cannot multiply the
    budget): the repositories' username key."""
    t = make(per_account=(2, 300))
    await t.reserve("alice", "192.0.2.1")
    await t.reserve(variant, "192.0.2.2")
    assert await _try(t, "alice", "192.0.2.3") == 1


async def test_registration_is_counted_per_ip_for_the_window() -> None:
    """``register_per_ip``: the limit per window, then 429 until the window ends."""
    clock = FakeClock()
    t = make(clock=clock, register_per_ip=(2, 3600))
    await t.reserve_registration("192.0.2.1")
    clock.advance(100)
    await t.reserve_registration("192.0.2.1")
    with pytest.raises(Throttled) as info:
        await t.reserve_registration("192.0.2.1")
    assert info.value.retry_after == 3500
    await t.reserve_registration("192.0.2.2")  # another IP is unaffected


async def test_storage_keys_do_not_contain_usernames_or_ips() -> None:
    """Keys are SHA-256 digests, so usernames and IPs never appear in the storage."""
    limiter = MemoryLimiter()
    t = make(limiter)
    await t.reserve("alice@example.com", "203.0.113.5")
    await t.reserve_registration("203.0.113.5")
    keys = limiter.keys()
    assert len(keys) == 4
    assert not any("alice" in k or "203.0.113.5" in k for k in keys)


async def test_apps_sharing_a_storage_keep_separate_counters() -> None:
    """Two apps on one storage with different namespaces don't throttle each other."""
    shared = MemoryLimiter()
    a = LoginThrottle(
        shared,
        per_account=(1, 60),
        per_ip=WIDE,
        per_account_ip=WIDE,
        register_per_ip=WIDE,
        base_delay=1.0,
        max_delay=900.0,
        namespace="app-a",
    )
    b = make(shared, per_account=(1, 60))
    await a.reserve("eve", "10.0.0.1")
    with pytest.raises(Throttled):
        await a.reserve("eve", "10.0.0.1")
    await b.reserve("eve", "10.0.0.1")  # untouched namespace: not throttled


async def test_storage_down_fails_closed() -> None:
    """An unreachable Redis makes reserve/succeeded/release raise StoreUnavailable (503)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    t = make(limiter_for(f"redis://127.0.0.1:{port}"))
    attempt = await make().reserve("alice", "192.0.2.1")
    for call in (t.reserve("alice", "192.0.2.1"), t.succeeded(attempt), t.release(attempt)):
        with pytest.raises(StoreUnavailable) as info:
            await call
        assert info.value.status_code == 503
    await t.close()
