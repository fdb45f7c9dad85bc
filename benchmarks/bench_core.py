"""Per-request cost of authentication, measured side by side in one process.

    python benchmarks/bench_core.py          (or: nox -s bench)

Every stack answers the same GET over in-process ASGI. Figures are medians in µs; "added"
is over the same framework's bare route. Goals (issue 2): a JWT-authenticated
``Depend(current_user)`` route with a repeated token ≤ 1.20× bare Nexios; a route that
does not ask for the user ≤ 1.03× bare. Cold (a new token every request) is reported
separately. Peers (Starlette, FastAPI, Litestar) are measured when installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _asgi import Stack, measure, median, run

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
TOTAL = ROUNDS * BATCH + 100


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


def ours(*, asks: bool) -> tuple[Any, Any]:
    from nexios import NexiosApp
    from nexios.dependencies import Depend

    from nexios_auth_di import SimpleUser, current_user, install
    from nexios_auth_di.testing import make_test_container

    container = make_test_container(
        {"alice": SimpleUser("alice")}, backends=["jwt"], jwt={"secret_key": SECRET}
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


def main() -> None:
    plain = jwt.encode({"sub": "alice", "exp": time.time() + 3600}, SECRET, algorithm="HS256")
    app_warm, container = ours(asks=True)
    warm_token = container.token_service().create_access_token("alice")
    app_cold, cold_container = ours(asks=True)
    cold_svc = cold_container.token_service()
    cold_tokens = [cold_svc.create_access_token("alice") for _ in range(TOTAL)]
    app_unasked, _ = ours(asks=False)

    stacks = [
        Stack("nexios bare route", nexios_bare()),
        Stack("nexios own AuthenticationMiddleware + JWTAuthBackend", nexios_own_auth(),
              headers=lambda i: bearer(plain)),
        Stack("nexios hand-written Depend (decode + lookup)", nexios_handwritten_depend(),
              headers=lambda i: bearer(plain)),
        Stack("ours: route not asking (token sent)", app_unasked,
              headers=lambda i: bearer(warm_token)),
        Stack("ours: Depend(current_user), warm token", app_warm,
              headers=lambda i: bearer(warm_token)),
        Stack("ours: Depend(current_user), cold token", app_cold,
              headers=lambda i: bearer(cold_tokens[i % len(cold_tokens)])),
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

    with contextlib.redirect_stdout(io.StringIO()):  # Nexios prints on every Depend
        run(measure(stacks, ROUNDS, BATCH))

    raw = []
    for _ in range(ROUNDS * BATCH):
        start = time.perf_counter_ns()
        jwt.decode(plain, SECRET, algorithms=["HS256"])
        raw.append((time.perf_counter_ns() - start) / 1000)
    raw.sort()

    base = {s.name.split(" ")[0]: median(s) for s in stacks if s.name.endswith("bare") or
            s.name == "nexios bare route"}  # fmt: skip
    print(f"\n{'stack':58} {'median µs':>10} {'added µs':>9} {'× bare':>7}")
    for s in stacks:
        framework = "nexios" if s.name.startswith(("nexios", "ours")) else s.name.split(" ")[0]
        b = base.get(framework, median(stacks[0]))
        m = median(s)
        print(f"{s.name:58} {m:10.1f} {m - b:9.1f} {m / b:7.2f}")
    print(f"{'PyJWT HS256 decode alone':58} {raw[len(raw) // 2]:10.1f}")
    by = {s.name: median(s) for s in stacks}
    bare = by["nexios bare route"]
    goals = [
        ("warm Depend(current_user)", "ours: Depend(current_user), warm token", "goal <= 1.20"),
        ("cold Depend(current_user)", "ours: Depend(current_user), cold token", "no goal"),
        ("route not asking", "ours: route not asking (token sent)", "goal <= 1.03"),
        ("nexios own auth", "nexios own AuthenticationMiddleware + JWTAuthBackend", "was 1.91"),
    ]
    print("\nratios to the bare Nexios route (same run):")
    for label, name, goal in goals:
        print(f"  {label:28} {by[name] / bare:6.3f}   ({goal})")
    alone = asyncio.run(middleware_alone(container))
    print(f"  lazy middleware alone        {alone:6.2f} µs = {alone / bare:.4f} of a bare request")


if __name__ == "__main__":
    main()
