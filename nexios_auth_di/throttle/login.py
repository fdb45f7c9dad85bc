"""``LoginThrottle``: reserve a guess before the password is checked.

Order of a password check (login, password change): ``reserve`` (atomic hit-and-test on
every counter), then argon2, then ``succeeded`` (clears the account's counters) or
nothing (the failure is already counted). A request that never reached argon2 because
the hashing queue was full gives the account its attempt back with ``release``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from nexios_auth_di.exceptions import ConfigurationError, Throttled
from nexios_auth_di.throttle.limiter import Limiter, Rule
from nexios_auth_di.usernames import username_key

__all__ = ["Attempt", "LoginThrottle"]

Pair = tuple[int, int]


def _digest(*parts: str) -> str:
    """Keys are hashed so usernames and IPs never appear in the storage."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Attempt:
    """A granted reservation: the counters it was counted on."""

    rules: tuple[Rule, ...]
    clears: frozenset[str]  # keys a success forgets (this source's, at the account)
    account: frozenset[str] = frozenset()  # the account's keys: a shed guess is given back


class LoginThrottle:
    """Counts password guesses per (account, IP), per account and per IP, *before* they
    are checked, with exponential backoff past each limit instead of a lockout.

    Anti-lockout design (per-(account, IP) limits next to a looser per-account limit):
    a guess is counted on three counters, the tightest first. ``per_account_ip``
    (default 5 per 300 s) stops one source guessing at one account; a refused guess is
    counted nowhere else, so a flood from one IP never touches the account-wide counter
    beyond its own small allowance. ``per_account`` (default 30 per 300 s) bounds
    guessing spread over many IPs, and ``per_ip`` (20 per 300 s) one IP spraying many
    accounts. So an attacker's flood from one address cannot lock the owner out of their
    account from another address; an attacker with many addresses can at most make the
    owner wait a backoff, doubling from ``base_delay``, never a fixed lockout.

    Past a limit, each granted guess locks that counter for ``base_delay * 2**k`` seconds
    (``k`` guesses past the limit, capped at ``max_delay``). Accounts are keyed on the
    *submitted* username (normalised), so a 429 says nothing about whether the account
    exists. Success clears only the (account, IP) counter of the source that knew the
    password; the account-wide and IP counters get that one attempt back and keep the
    other failures, or every login of the owner (an integration logging in each minute)
    would hand a botnet a fresh account-wide budget, and one valid account would let an
    attacker reset the IP limit.

    ``known_source``: the caller (``accounts/devices.known_source``) vouches that this IP
    signed in to this account with the right password before. Such a guess skips the
    account-wide counter, so a distributed flood that has exhausted it does not lock the
    owner out of the places they log in from (OWASP "device cookies", here keyed by
    address); it still counts on the (account, IP) and IP counters.
    ``register_per_ip`` bounds account creation (and its hashing) per IP, per window.
    """

    def __init__(
        self,
        limiter: Limiter,
        *,
        per_account: Pair,
        per_ip: Pair,
        per_account_ip: Pair,
        register_per_ip: Pair,
        base_delay: float,
        max_delay: float,
        clock: Callable[[], float] = time.time,
        namespace: str = "nexios_auth_di",
    ) -> None:
        pairs = {
            "per_account": per_account,
            "per_ip": per_ip,
            "per_account_ip": per_account_ip,
            "register_per_ip": register_per_ip,
        }
        for name, (limit, window) in pairs.items():
            if limit < 1 or window < 1:
                raise ConfigurationError(f"LoginThrottle {name}: limit and window must be >= 1")
        if base_delay <= 0 or max_delay < base_delay:
            raise ConfigurationError("LoginThrottle: need 0 < base_delay <= max_delay")
        self.limiter = limiter
        self.per_account = per_account
        self.per_ip = per_ip
        self.per_account_ip = per_account_ip
        self.register_per_ip = register_per_ip
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        # apps sharing one storage keep separate counters under their namespace
        self._prefix = f"{namespace}/login"

    @staticmethod
    def normalize(account: str) -> str:
        """The form usernames are counted under: the repositories' key (NFKC + casefold),
        so width and case variants share one counter."""
        return username_key(account)

    def _rule(self, pair: Pair, *parts: str, backoff: bool = True) -> Rule:
        limit, window = pair
        key = f"{self._prefix}/{_digest(*parts)}"
        if not backoff:
            return Rule(key, limit, float(window))
        return Rule(key, limit, float(window), self.base_delay, self.max_delay)

    def login_rules(self, account: str, ip: str) -> tuple[Rule, ...]:
        """The counters one guess at ``account`` from ``ip`` is counted on, tightest first."""
        name = self.normalize(account)
        return (
            self._rule(self.per_account_ip, "login-account-ip", name, ip),
            self._rule(self.per_ip, "login-ip", ip),
            self._rule(self.per_account, "login-account", name),
        )

    async def reserve(self, account: str, ip: str, *, known_source: bool = False) -> Attempt:
        """Count one guess on every counter, or raise ``Throttled`` having counted none."""
        account_ip, by_ip, by_account = self.login_rules(account, ip)
        rules = (account_ip, by_ip) if known_source else (account_ip, by_ip, by_account)
        keys = {account_ip.key, by_account.key}  # the account's: a shed guess is refunded
        return await self._reserve(rules, {account_ip.key}, "login_backoff", keys)

    async def reserve_registration(self, ip: str) -> Attempt:
        """Count one registration from ``ip`` (before any hashing), or raise ``Throttled``."""
        rule = self._rule(self.register_per_ip, "register-ip", ip, backoff=False)
        return await self._reserve((rule,), set(), "register_rate")

    async def _reserve(
        self,
        rules: tuple[Rule, ...],
        clears: set[str],
        reason: str,
        account: set[str] | None = None,
    ) -> Attempt:
        now = self.clock()
        granted: list[Rule] = []
        for rule in rules:
            decision = await self.limiter.reserve(rule, now)
            if not decision.allowed:
                # give back what this guess took on the looser counters: it never runs
                for earlier in granted:
                    await self.limiter.release(earlier, now)
                raise Throttled(decision.retry_after, reason=reason)
            granted.append(rule)
        return Attempt(tuple(granted), frozenset(clears), frozenset(account or ()))

    async def succeeded(self, attempt: Attempt) -> None:
        """The password was right: forget this source's failures at the account; the
        account-wide and IP counters get this attempt back and keep the rest."""
        now = self.clock()
        for rule in attempt.rules:
            if rule.key in attempt.clears:
                await self.limiter.clear(rule.key)
            else:
                await self.limiter.release(rule, now)

    async def release(self, attempt: Attempt) -> None:
        """The password was never checked (shed with 503): the account's counters get the
        guess back, so shedding never pushes an owner into backoff. The IP keeps it: it
        asked for the work, and a flood that is shed must still use up its IP budget, or
        it would refill the hashing queue for as long as it likes."""
        now = self.clock()
        for rule in attempt.rules:
            if rule.key in attempt.account:
                await self.limiter.release(rule, now)

    async def close(self) -> None:
        await self.limiter.close()
