"""PasswordService: argon2id hashing that never blocks the event loop.

Why each piece exists:

* Hashing runs in an executor. Measured on the 2-core reference box (argon2-cffi 25,
  bindings over cffi): argon2's C code releases the GIL. Two p=1 verifies in two threads
  took 0.60x the sequential time, and a pure-Python loop on the main thread ran ~7 million
  iterations during three hashes in another thread. With p=4 (the default profile) a single
  hash already uses both cores through argon2's own lane threads, so two threads give no
  extra speed-up, but the loop thread stays free either way.
* At most ``max_concurrency`` hashes (default: CPU count) run at once, per event loop. The
  main reason is memory (64 MiB per hash in flight at the default profile): a login flood
  queues instead of exhausting RAM. It costs no speed: on the shared 2-core box, alternating
  batches of 8 concurrent verifies ran at least as fast capped at 2 as through the loop's
  6-thread default pool in every pair (e.g. 6.2 vs 5.1 and 3.4 vs 3.0 verifies/s).
* At most ``queue_depth`` more wait (``gate.py``); the next caller gets ``Overloaded``
  (503 + Retry-After) at once, so a flood of anonymous hashing cannot push a real login
  seconds back in the queue: it is shed instead.
* Hashes run in the service's own small thread pool whose threads are *niced*
  (``worker_nice``, default 10). argon2's lane threads inherit the priority, so when 8
  logins saturate both cores the kernel still schedules the event-loop thread first.
  Measured on the 2-core box, p99 of a 1 ms loop tick while 8 default-profile verifies ran:
  about 11x idle with an ordinary pool, about 1-2x with niced workers.
* ``dummy_verify`` makes an unknown user cost one verify with the *same* parameters as a
  wrong password, so response time does not reveal which accounts exist.
* Passwords are limited to ``max_bytes`` of UTF-8 and rejected, never truncated, above it.
* ``verify_and_update`` rehashes on login when the profile changed, so raising the cost is
  a configuration change, not a migration.
* ``close()`` (called by the container's shutdown) stops the own pool without waiting:
  queued hashes are cancelled and no hashing thread outlives the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import secrets
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TypeVar

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from nexios_auth_di.exceptions import BadRequest, Overloaded
from nexios_auth_di.logs import get_logger
from nexios_auth_di.passwords.gate import HashGate
from nexios_auth_di.passwords.profiles import DEFAULT, below_owasp_minimum, profile_name

__all__ = ["COMMON_PASSWORDS", "PasswordService", "common_passwords"]

_log = get_logger("nexios_auth_di.passwords")
_T = TypeVar("_T")

BreachCheck = Callable[[str], Awaitable[bool] | bool]

# A deliberately tiny list of the most common leaked passwords (opt in with
# ``is_breached=common_passwords``). Compared case-insensitively. For real breach data use an
# async checker such as a k-anonymity range API.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    """
    123456 123456789 12345678 12345 1234567 1234567890 123123 111111 000000 654321
    666666 121212 112233 123321 987654321 1q2w3e4r 1q2w3e4r5t qwerty qwerty123 qwertyuiop
    qwerty1 asdfghjkl zxcvbnm 1qaz2wsx qazwsx password password1 password123 passw0rd
    p@ssw0rd p@ssword pass1234 abc123 abcd1234 abcdef 123abc a1b2c3d4 iloveyou iloveyou1
    princess sunshine superman batman spiderman pokemon starwars football baseball
    basketball soccer hockey jordan23 michael jennifer charlie daniel jessica ashley
    michelle nicole liverpool chelsea arsenal dragon monkey shadow master killer freedom
    whatever trustno1 letmein welcome welcome1 welcome123 admin admin123 administrator
    root toor login changeme default secret test1234 testtest guest 11111111 88888888
    12341234 123qwe 1234qwer qweasdzxc zaq12wsx computer internet samsung google
    hello123 lovely loveme flower hunter2 mustang access summer2024 winter2024
    """.split()  # noqa: SIM905 - a word list reads better than 110 quoted strings
)


def common_passwords(password: str) -> bool:
    """Built-in breach checker: True when ``password`` is on ``COMMON_PASSWORDS``."""
    return password.casefold() in COMMON_PASSWORDS


class PasswordService:
    """Hash, verify and police passwords with one argon2id profile.

    ``executor=None`` (the default) hashes in this service's own pool of
    ``max_concurrency`` threads, niced by ``worker_nice``, created on first use; pass an
    executor to use yours instead. The dummy hash for ``dummy_verify`` is made on first
    use and kept on the instance (no global state).
    """

    def __init__(
        self,
        profile: Parameters = DEFAULT,
        *,
        min_length: int = 8,
        max_bytes: int = 4096,
        is_breached: BreachCheck | None = None,
        executor: Executor | None = None,
        max_concurrency: int | None = None,
        queue_depth: int | None = None,
        allow_cheap: bool = False,
        worker_nice: int = 10,
    ) -> None:
        self.profile = profile
        self.min_length = min_length
        self.max_bytes = max_bytes
        self._is_breached = is_breached
        self._executor = executor
        self.max_concurrency = max_concurrency or os.cpu_count() or 1
        self.queue_depth = queue_depth  # None: unbounded (the container passes a bound)
        self.worker_nice = worker_nice
        self._own_pool: ThreadPoolExecutor | None = None
        # One bounded queue per event loop (an asyncio primitive is bound to one loop).
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HashGate]
        self._gates = weakref.WeakKeyDictionary()
        self._hasher = PasswordHasher.from_parameters(profile)
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()
        if below_owasp_minimum(profile) and not allow_cheap:
            _log.warning(
                "PasswordService uses argon2 profile %r, which is below the OWASP minimum "
                "and only fit for tests; pass allow_cheap=True to silence this.",
                profile_name(profile),
            )

    # --- policy -----------------------------------------------------------------------

    def validate(self, password: object) -> None:
        """Raise ``BadRequest`` unless ``password`` is acceptable as a *new* password."""
        if not isinstance(password, str):
            raise BadRequest("Password must be a string.")
        self._check_size(password)
        if len(password) < self.min_length:
            raise BadRequest(f"Password must be at least {self.min_length} characters long.")

    def _check_size(self, password: str) -> None:
        try:
            size = len(password.encode("utf-8"))
        except UnicodeEncodeError:
            raise BadRequest("Password must be valid Unicode text.") from None
        if size > self.max_bytes:
            raise BadRequest(
                f"Password must be at most {self.max_bytes} bytes of UTF-8; "
                "longer passwords are rejected, not truncated."
            )

    async def check_breached(self, password: str) -> None:
        """Raise ``BadRequest`` when the configured checker flags ``password``."""
        if self._is_breached is None:
            return
        verdict = self._is_breached(password)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if verdict:
            raise BadRequest(
                "This password is too common or has appeared in a data breach; "
                "please choose another."
            )

    # --- hashing ----------------------------------------------------------------------

    async def _run(self, fn: Callable[..., _T], *args: str) -> _T:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = HashGate(self.max_concurrency, self.queue_depth)
        async with gate.slot():  # Overloaded (503) at once when the queue is full
            return await loop.run_in_executor(self._pool(), fn, *args)

    def _pool(self) -> Executor:
        """The injected executor, else this service's own pool of niced threads."""
        if self._executor is not None:
            return self._executor
        if self._own_pool is None:
            nice = self.worker_nice

            def lower_priority() -> None:
                # best effort: per-thread niceness exists on Linux; elsewhere it is skipped
                with contextlib.suppress(AttributeError, OSError):
                    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)

            self._own_pool = ThreadPoolExecutor(
                self.max_concurrency,
                thread_name_prefix="nexios-auth-argon2",
                initializer=lower_priority if nice > 0 else None,
            )
        return self._own_pool

    async def hash(self, password: str) -> str:
        """Validate ``password`` as a new password and return its argon2id hash."""
        self.validate(password)
        return await self._run(self._hasher.hash, password)

    def _verify_sync(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError, UnicodeEncodeError, TypeError):
            return False

    async def verify(self, hash: str, password: str) -> bool:
        """True when ``password`` matches ``hash``; False for any mismatch or bad input."""
        if not isinstance(password, str) or not isinstance(hash, str):
            return False
        try:
            self._check_size(password)
        except BadRequest:
            return False  # could never have been hashed; skip the expensive work
        return await self._run(self._verify_sync, hash, password)

    def needs_rehash(self, hash: str) -> bool:
        """True when ``hash`` was not made with this service's profile."""
        try:
            return self._hasher.check_needs_rehash(hash)
        except (InvalidHashError, VerificationError, ValueError):
            return True

    async def verify_and_update(
        self,
        hash: str,
        password: str,
        save: Callable[[str], Awaitable[None]] | None = None,
    ) -> bool:
        """Verify, and on success rehash with the current profile if it changed.

        The rehash skips ``min_length``: a password that was accepted under an older
        policy must not turn a successful login into a 400.
        """
        if not await self.verify(hash, password):
            return False
        if self.needs_rehash(hash):
            try:
                new_hash = await self._run(self._hasher.hash, password)
            except Overloaded:
                return True  # rehash next time: a right password must never read as a 503
            if save is not None:
                await save(new_hash)
        return True

    def _dummy_hash(self) -> str:
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(32))
            return self._dummy

    def _dummy_verify_sync(self, password: str) -> None:
        self._verify_sync(self._dummy_hash(), password)

    async def dummy_verify(self, password: str) -> None:
        """Spend one verify on a throw-away hash: call it when the user is unknown.

        The first call on an instance also makes the dummy hash (one extra hash).
        """
        if not isinstance(password, str):
            return
        try:
            self._check_size(password)
        except BadRequest:
            return  # same early exit as verify()
        await self._run(self._dummy_verify_sync, password)

    async def warm_up(self) -> None:
        """Make the dummy hash now (e.g. at startup) so the first unknown login isn't slower."""
        await self._run(self._dummy_hash)

    def close(self) -> None:
        """Stop this service's own pool (never an injected executor) without waiting:
        queued hashes are cancelled, idle threads exit, so no hashing thread keeps a
        stopping process alive. The next hash starts a new pool (another lifespan)."""
        pool, self._own_pool = self._own_pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
