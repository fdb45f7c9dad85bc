"""Per-request cost of authentication, measured side by side in one process.

    python benchmarks/bench_core.py          (or: nox -s bench)

Every stack answers the same GET over in-process ASGI, round-robin in one run. Figures
are medians in µs; "added" is over the same framework's bare route. Goals (issue "One
house"), each a ratio to the bare Nexios route of the same run:

* ``Depend(current_user)``, a token never seen before (cold): ≤ 1.20
* the same token repeated (warm): ≤ 1.10
* the guide form (``app.add_middleware(AuthenticationMiddleware(...))`` +
  ``@login_required``): ≤ 1.25, or the floor of Nexios's function-middleware machinery,
  shown by the "empty function middleware" row
* warm token with the revocation check on the SQLite store (the development default):
  ≤ 1.15
* a route that does not ask for the user: ≤ 1.03

Peers (Starlette, FastAPI, Litestar) are measured when installed. Set BENCH_REPEAT=n to
run the whole comparison n times and print each goal's ratios (median and spread).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _asgi import Stack, measure, median

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))
TOTAL = ROUNDS * BATCH + 100
REVOKED = 1_000  # other revoked jtis in the SQLite store while measuring


def bearer(token: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {token}".encode())]


def nexios_bare() -> Any:
    from nexios import NexiosApp

    app = NexiosApp()

    @app.get("/")
    async def index(request: Any, response: Any) -> Any:
        return {"ok": True}

    return app


def nexios_own_auth() -> Any:
    from nexios import NexiosApp
    from nexios.auth.backends.jwt import JWTAuthBackend
    from nexios.auth.middleware import AuthenticationMiddleware
    from nexios.auth.users.simple import SimpleUser

    class User(SimpleUser):  # type: ignore[misc]
        @classmethod
        async def load_user(cls, identity: str) -> Any:
            return cls(username=identity)

    app = NexiosApp()
    app.add_middleware(
        AuthenticationMiddleware(
            user_model=User, backend=JWTAuthBackend(identifier="sub", secret_key=SECRET)
        )
    )

    @app.get("/")
    async def index(request: Any, response: Any) -> Any:
        return {"user": request.user.username}

    return app


def nexios_empty_function_middleware() -> Any:
    """The floor of ``app.add_middleware(...)``: a function middleware doing nothing."""
    from nexios import NexiosApp

    app = NexiosApp()

    async def nothing(request: Any, response: Any, call_next: Any) -> Any:
        return await call_next()

    app.add_middleware(nothing)

    @app.get("/")
    async def index(request: Any, response: Any) -> Any:
        return {"ok": True}

    return app


def nexios_handwritten_depend() -> Any:
    from nexios import NexiosApp
    from nexios.dependencies import Context, Depend

    users = {"alice": {"id": "alice"}}

    async def user_dep(ctx: Context = Context()) -> Any:
        header = ctx.request.headers.get("authorization", "")
        claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"])
        return users[claims["sub"]]

    app = NexiosApp()

    @app.get("/")
    async def index(request: Any, response: Any, user: Any = Depend(user_dep)) -> Any:
        return {"user": user["id"]}

    return app


def ours(*, asks: bool, **config: Any) -> tuple[Any, Any]:
    from nexios import NexiosApp
    from nexios.dependencies import Depend

    from nexios_auth_di import SimpleUser, current_user, install
    from nexios_auth_di.testing import make_test_container

    container = make_test_container(
        {"alice": SimpleUser("alice")}, backends=["jwt"], jwt={"secret_key": SECRET}, **config
    )
    app = NexiosApp()
    install(app, container)
    if asks:

        @app.get("/")
        async def index(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
            return {"user": user.id}

    else:

        @app.get("/")
        async def public(request: Any, response: Any) -> Any:
            return {"ok": True}

    return app, container


def ours_guide_form() -> Any:
    from nexios import NexiosApp

    from nexios_auth_di import SimpleUser, login_required
    from nexios_auth_di.backends.jwt import JWTAuthBackend
    from nexios_auth_di.middleware import AuthenticationMiddleware

    users = {"alice": SimpleUser("alice")}
    app = NexiosApp()
    backend = JWTAuthBackend(secret_key=SECRET, authenticate_func=users.get)
    app.add_middleware(AuthenticationMiddleware(backend=backend))

    @app.get("/")
    @login_required
    async def index(request: Any, response: Any) -> Any:
        return {"user": request.user.id}

    return app


def starlette_stacks() -> list[tuple[str, Any, bool]]:
    from starlette.applications import Starlette
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        SimpleUser,
        requires,
    )
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    class JWTBackend(AuthenticationBackend):
        async def authenticate(self, conn: Any) -> Any:
            header = conn.headers.get("authorization")
            if not header:
                return None
            claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"])
            return AuthCredentials(["authenticated"]), SimpleUser(claims["sub"])

    async def bare(request: Any) -> Any:
        return JSONResponse({"ok": True})

    @requires("authenticated")
    async def private(request: Any) -> Any:
        return JSONResponse({"user": request.user.username})

    return [
        ("starlette bare", Starlette(routes=[Route("/", bare)]), False),
        (
            "starlette AuthenticationMiddleware + JWT",
            Starlette(
                routes=[Route("/", private)],
                middleware=[Middleware(AuthenticationMiddleware, backend=JWTBackend())],
            ),
            True,
        ),
    ]


def fastapi_stacks() -> list[tuple[str, Any, bool]]:
    from fastapi import Depends, FastAPI
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

    scheme = HTTPBearer()

    def user_dep(creds: HTTPAuthorizationCredentials = Depends(scheme)) -> str:
        return str(jwt.decode(creds.credentials, SECRET, algorithms=["HS256"])["sub"])

    bare, auth = FastAPI(), FastAPI()

    @bare.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @auth.get("/")
    async def private(user: str = Depends(user_dep)) -> dict[str, str]:
        return {"user": user}

    return [("fastapi bare", bare, False), ("fastapi HTTPBearer + PyJWT", auth, True)]


def litestar_stacks() -> list[tuple[str, Any, bool]]:
    from litestar import Litestar, Request, get
    from litestar.connection import ASGIConnection
    from litestar.security.jwt import JWTAuth, Token

    async def retrieve(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
        return {"id": token.sub}

    auth = JWTAuth[Any](token_secret=SECRET, retrieve_user_handler=retrieve)

    @get("/", sync_to_thread=False)
    def index() -> dict[str, bool]:
        return {"ok": True}

    @get("/", sync_to_thread=False)
    def private(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {"user": request.user["id"]}

    return [
        ("litestar bare", Litestar([index], logging_config=None), False),
        ("litestar JWTAuth", Litestar([private], on_app_init=[auth.on_app_init],
                                      logging_config=None), True),
    ]  # fmt: skip


def litestar_token() -> str:
    from datetime import UTC, datetime, timedelta

    from litestar.security.jwt import Token

    exp = datetime.now(UTC) + timedelta(hours=1)
    return Token(sub="alice", exp=exp).encode(secret=SECRET, algorithm="HS256")


async def middleware_alone(container: Any, n: int = 100_000) -> float:
    """µs the lazy middleware adds per request, timed without the framework around it:
    whole-request medians move by more than this between runs on a shared machine."""
    from nexios_auth_di.middleware import AuthMiddleware

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    mw = AuthMiddleware(inner, container=container)
    mw._documented = True
    scope = {"type": "http", "headers": [(b"authorization", b"Bearer x")]}
    start = time.perf_counter()
    for _ in range(n):
        await mw(dict(scope), None, None)
    mid = time.perf_counter()
    for _ in range(n):
        await inner(dict(scope), None, None)
    end = time.perf_counter()
    return ((mid - start) - (end - mid)) / n * 1e6


async def sqlite_row(path: str) -> tuple[Any, Any, str]:
    """A warm-token ``Depend(current_user)`` app whose revocation check reads SQLite, with
    REVOKED other jtis revoked."""
    app, container = ours(asks=True, stores="sqlite", store={"sqlite_path": path})
    revocations = container.revocation_store()
    exp = time.time() + 3600
    for _ in range(0, REVOKED, 100):
        jtis = [uuid.uuid4().hex for _ in range(100)]
        await asyncio.gather(*(revocations.revoke_jti(j, exp) for j in jtis))
    return app, container, container.token_service().create_access_token("alice")


GOALS = [
    ("cold Depend(current_user)", "ours: Depend(current_user), cold token", 1.20),
    ("guide form", "ours: guide form middleware + login_required", 1.25),
    ("  (empty function middleware)", "nexios empty function middleware (floor)", None),
    ("revocation on SQLite, warm", "ours: Depend(current_user), warm, SQLite revocation", 1.15),
    ("warm Depend(current_user)", "ours: Depend(current_user), warm token", 1.10),
    ("route not asking", "ours: route not asking (token sent)", 1.03),
    ("hand-written Depend + PyJWT", "nexios hand-written Depend (decode + lookup)", None),
    ("nexios own auth", "nexios own AuthenticationMiddleware + JWTAuthBackend", None),
]


async def compare(tmp: str, index: int) -> dict[str, float]:
    """One side-by-side run of every stack; prints the table, returns ratios to bare."""
    plain = jwt.encode({"sub": "alice", "exp": time.time() + 3600}, SECRET, algorithm="HS256")
    app_warm, container = ours(asks=True)
    warm_token = container.token_service().create_access_token("alice")
    app_cold, cold_container = ours(asks=True)
    cold_svc = cold_container.token_service()
    cold_tokens = [cold_svc.create_access_token("alice") for _ in range(TOTAL)]
    app_unasked, _ = ours(asks=False)
    app_sqlite, sqlite_container, sqlite_token = await sqlite_row(f"{tmp}/core-{index}.db")

    stacks = [
        Stack("nexios bare route", nexios_bare()),
        Stack("nexios own AuthenticationMiddleware + JWTAuthBackend", nexios_own_auth(),
              headers=lambda i: bearer(plain)),
        Stack("nexios hand-written Depend (decode + lookup)", nexios_handwritten_depend(),
              headers=lambda i: bearer(plain)),
        Stack("nexios empty function middleware (floor)", nexios_empty_function_middleware()),
        Stack("ours: route not asking (token sent)", app_unasked,
              headers=lambda i: bearer(warm_token)),
        Stack("ours: Depend(current_user), warm token", app_warm,
              headers=lambda i: bearer(warm_token)),
        Stack("ours: Depend(current_user), cold token", app_cold,
              headers=lambda i: bearer(cold_tokens[i % len(cold_tokens)])),
        Stack("ours: Depend(current_user), warm, SQLite revocation", app_sqlite,
              headers=lambda i: bearer(sqlite_token)),
        Stack("ours: guide form middleware + login_required", ours_guide_form(),
              headers=lambda i: bearer(plain)),
    ]  # fmt: skip
    peers: list[tuple[str, Any, bool]] = []
    for loader in (starlette_stacks, fastapi_stacks, litestar_stacks):
        try:
            peers.extend(loader())
        except ImportError as exc:
            print(f"(peer skipped: {exc.name} not installed)")
    lit_token = litestar_token() if any(n.startswith("litestar") for n, _, _ in peers) else ""
    for name, app, needs in peers:
        token = lit_token if name.startswith("litestar") else plain
        stacks.append(Stack(name, app, headers=(lambda i, t=token: bearer(t)) if needs else
                            (lambda i: [])))  # fmt: skip

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Nexios prints on every Depend
            await measure(stacks, ROUNDS, BATCH)
    finally:
        await sqlite_container.stores().close()

    base = {s.name.split(" ")[0]: median(s) for s in stacks if s.name.endswith("bare") or
            s.name == "nexios bare route"}  # fmt: skip
    print(f"\n{'stack':58} {'median µs':>10} {'added µs':>9} {'× bare':>7}")
    for s in stacks:
        framework = "nexios" if s.name.startswith(("nexios", "ours")) else s.name.split(" ")[0]
        b = base.get(framework, median(stacks[0]))
        m = median(s)
        print(f"{s.name:58} {m:10.1f} {m - b:9.1f} {m / b:7.2f}")
    by = {s.name: median(s) for s in stacks}
    bare = by["nexios bare route"]
    return {label: by[name] / bare for label, name, _ in GOALS}


def main() -> None:
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(REPEAT):
            runs.append(asyncio.run(compare(tmp, index)))

    plain = jwt.encode({"sub": "alice", "exp": time.time() + 3600}, SECRET, algorithm="HS256")
    raw = []
    for _ in range(ROUNDS * BATCH):
        start = time.perf_counter_ns()
        jwt.decode(plain, SECRET, algorithms=["HS256"])
        raw.append((time.perf_counter_ns() - start) / 1000)
    print(f"{'PyJWT HS256 decode alone':58} {statistics.median(raw):10.1f}")

    print(f"\nratios to the bare Nexios route ({REPEAT} run(s); median [min-max]):")
    for label, _, goal in GOALS:
        values = [ratios[label] for ratios in runs]
        spread = f"[{min(values):.3f}-{max(values):.3f}]" if len(values) > 1 else ""
        target = f"goal <= {goal:.2f}" if goal else "reference"
        print(f"  {label:32} {statistics.median(values):6.3f} {spread:15} ({target})")
    _, container = ours(asks=True)
    alone = asyncio.run(middleware_alone(container))
    print(f"  lazy middleware alone        {alone:6.2f} µs per request")


if __name__ == "__main__":
    main()
