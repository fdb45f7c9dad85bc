"""Token verification cost, side by side: raw PyJWT, our verifier cold and warm, the service.

Run: ``python benchmarks/bench_tokens.py``. Medians of 15 rounds x 2000 calls (400 for the
cold paths), stdlib timing only; the goal is verify-cold / raw-decode <= 1.15x and a warm
hit of ~1-2 µs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import jwt

from nexios_auth_di.stores.memory import MemoryRefreshFamilyStore, MemoryRevocationStore
from nexios_auth_di.tokens import TokenService, TokenVerifier
from nexios_auth_di.tokens.keys import KeyRing

ROUNDS, CALLS, COLD_CALLS = 15, 2000, 400
SECRET = "bench-secret-" + "x" * 40
ISSUER, AUDIENCE = "https://issuer.bench", "api.bench"


def sample_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls / 1000


def median_us(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            fn()
        samples.append((time.perf_counter_ns() - start) / CALLS / 1000)
    return statistics.median(samples)


def median_async_us(make: Callable[[], object]) -> float:
    async def run() -> float:
        samples = []
        for _ in range(ROUNDS):
            start = time.perf_counter_ns()
            for _ in range(CALLS):
                await make()  # type: ignore[misc]
            samples.append((time.perf_counter_ns() - start) / CALLS / 1000)
        return statistics.median(samples)

    return asyncio.run(run())


def main() -> None:
    ring = KeyRing.from_secret(SECRET)
    service = TokenService(
        ring,
        revocations=MemoryRevocationStore(),
        families=MemoryRefreshFamilyStore(),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    token = service.create_access_token("alice", permissions=["read", "write"])
    key = SECRET.encode()
    options = {"require": ["exp", "iat", "sub", "jti"]}
    cold = TokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE, cache_size=0)
    warm = service.verifier
    warm.verify(token)

    def raw() -> object:
        return jwt.decode(
            token, key, algorithms=["HS256"], options=options, issuer=ISSUER, audience=AUDIENCE
        )

    rows: list[tuple[str, float]] = []
    # raw and cold interleaved round by round, so machine noise hits both alike
    raw_s, cold_s = [], []
    for _ in range(ROUNDS):
        raw_s.append(sample_us(raw, COLD_CALLS))
        cold_s.append(sample_us(lambda: cold.verify(token), COLD_CALLS))
    raw_us, cold_us = statistics.median(raw_s), statistics.median(cold_s)
    rows.append(("jwt.decode (raw PyJWT, same options)", raw_us))
    rows.append(("TokenVerifier.verify cold (cache off)", cold_us))
    rows.append(("TokenVerifier.verify warm (cache hit)", median_us(lambda: warm.verify(token))))
    rows.append(
        (
            "await TokenService.verify warm (+revocation)",
            median_async_us(lambda: service.verify(token)),
        )
    )
    print(f"HS256, {len(token)}-char token, median of {ROUNDS} rounds x {CALLS} calls")
    print(f"{'path':<48}{'µs/call':>10}{'x raw':>8}")
    for name, us in rows:
        print(f"{name:<48}{us:>10.2f}{us / raw_us:>8.2f}")
    print(f"verify-cold / raw decode = {cold_us / raw_us:.2f}x (goal <= 1.15x)")


if __name__ == "__main__":
    main()
