"""What an asymmetric (JWKS-publishable) token costs against HS256, side by side.

Run: ``python benchmarks/bench_jwks.py`` (``nox -s bench`` runs every bench). Three views,
each interleaved round by round so machine noise hits every algorithm alike:

1. raw PyJWT decode with the key a JWKS consumer holds (another service's cost);
2. our ``TokenVerifier`` cold (cache off): the signature check dominates;
3. a whole Nexios request with ``Depend(current_user)``, fresh token per request (cold)
   and one token repeated (warm: the verified-token cache skips the signature).

Ratios are to HS256 in the same run; medians of per-call times.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

sys.path.insert(0, str(Path(__file__).parent))

from _asgi import Stack, measure, median, run

from nexios_auth_di.tokens.jwks import jwk_of
from nexios_auth_di.tokens.keys import Key, KeyRing
from nexios_auth_di.tokens.verifier import TokenVerifier

ALGORITHMS = ["HS256", "EdDSA", "ES256", "PS256"]
ROUNDS, CALLS = 15, 300
REQ_ROUNDS, REQ_BATCH, FRESH = 12, 60, 1200


def _sample(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    for _ in range(CALLS):
        fn()
    return (time.perf_counter_ns() - start) / CALLS / 1000


def _ring(algorithm: str) -> KeyRing:
    return KeyRing([Key.generate("k1", algorithm)], "k1")


def _token(ring: KeyRing, subject: str = "alice") -> str:
    key = ring.active
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + 600, "jti": f"j{time.time_ns()}"}
    claims["typ"] = "access"
    return jwt.encode(claims, key.signing_key, key.algorithm, {"kid": key.kid})


def _consumer_key(ring: KeyRing) -> Any:
    """What another service holds: the secret for HS256, else the key parsed from our JWK."""
    key = ring.active
    if key.algorithm == "HS256":
        return key.verifying_key
    return jwt.PyJWK(jwk_of(key)).key


def micro() -> None:
    rows: dict[str, dict[str, list[float]]] = {a: {"raw": [], "cold": []} for a in ALGORITHMS}
    setups = {}
    for alg in ALGORITHMS:
        ring = _ring(alg)
        token = _token(ring)
        consumer = _consumer_key(ring)
        verifier = TokenVerifier(ring, cache_size=0)
        setups[alg] = (token, consumer, verifier)
    for _ in range(ROUNDS):
        for alg, (token, consumer, verifier) in setups.items():
            rows[alg]["raw"].append(
                _sample(lambda t=token, k=consumer, a=alg: jwt.decode(t, k, algorithms=[a]))
            )
            rows[alg]["cold"].append(_sample(lambda t=token, v=verifier: v.verify(t)))
    base = {kind: statistics.median(rows["HS256"][kind]) for kind in ("raw", "cold")}
    print(f"token verification, median of {ROUNDS} rounds x {CALLS} calls (µs; x HS256)")
    print(f"{'algorithm':<10}{'raw PyJWT':>12}{'x':>7}{'our cold':>12}{'x':>7}")
    for alg in ALGORITHMS:
        raw_us = statistics.median(rows[alg]["raw"])
        cold_us = statistics.median(rows[alg]["cold"])
        print(
            f"{alg:<10}{raw_us:>12.1f}{raw_us / base['raw']:>7.2f}"
            f"{cold_us:>12.1f}{cold_us / base['cold']:>7.2f}"
        )


def _app(ring: KeyRing) -> Any:
    from nexios import NexiosApp
    from nexios.dependencies import Depend

    from nexios_auth_di import SimpleUser, current_user, install
    from nexios_auth_di.testing import make_test_container

    container = make_test_container({"alice": SimpleUser("alice")}, backends=["jwt"])
    container.key_ring.override(ring)
    app = NexiosApp(debug=False)
    install(app, container)

    @app.get("/")
    async def index(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"user": user.id}

    return app, container


def requests() -> None:
    stacks: list[Stack] = []
    for alg in ALGORITHMS:
        ring = _ring(alg)
        app, container = _app(ring)
        service = container.token_service()
        fresh = [service.create_access_token("alice") for _ in range(FRESH)]
        warm = service.create_access_token("alice")

        def cold_headers(i: int, tokens: list[str] = fresh) -> list[tuple[bytes, bytes]]:
            return [(b"authorization", b"Bearer " + tokens[i % len(tokens)].encode())]

        def warm_headers(i: int, token: str = warm) -> list[tuple[bytes, bytes]]:
            return [(b"authorization", b"Bearer " + token.encode())]

        stacks.append(Stack(f"{alg} cold", app, headers=cold_headers))
        stacks.append(Stack(f"{alg} warm", app, headers=warm_headers))
    run(measure(stacks, REQ_ROUNDS, REQ_BATCH, warmup=20))
    base = {s.name.split()[1]: median(s) for s in stacks if s.name.startswith("HS256")}
    print(f"\nNexios request with Depend(current_user), median of {REQ_ROUNDS * REQ_BATCH}")
    print(f"{'stack':<14}{'µs':>10}{'x HS256':>10}")
    for stack in stacks:
        us = median(stack)
        print(f"{stack.name:<14}{us:>10.1f}{us / base[stack.name.split()[1]]:>10.2f}")


if __name__ == "__main__":
    micro()
    requests()
