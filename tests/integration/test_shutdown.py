"""Clean shutdown under real uvicorn (issue items "Nothing closes what it opens" and "The
server hangs on shutdown"): after real traffic, one SIGINT or SIGTERM ends the process
within seconds, on SQLite and on Redis, with what the container opened closed first.

uvicorn (>= 0.29) re-raises the signal once the app has shut down: SIGINT then ends the
process with code 0, SIGTERM with ``-SIGTERM`` (killed by the signal it asked for). Both
are clean exits, as long as the log shows the whole shutdown ran.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.redis_server import RedisProcess, free_port

REPO = Path(__file__).resolve().parents[2]
#: the issue's bound: one signal, and the process is gone within this many seconds
EXIT_BOUND = 5.0
READY_TIMEOUT = 20.0
CREDS = {"username": "ada", "password": "correct horse"}


def create_redis_app() -> Any:
    """What uvicorn serves for the Redis rows: the auth routes over Redis stores with the
    revocation cache on (its pub/sub task), the Redis login throttle and the hashing pool."""
    from nexios import Depend, NexiosApp

    from nexios_auth_di import current_user, install
    from nexios_auth_di.http.compat import silence_dependency_print
    from nexios_auth_di.routes import auth_router
    from nexios_auth_di.testing import make_test_container
    from nexios_auth_di.users import MemoryUserRepository, user_loader_for

    silence_dependency_print()
    store = {"redis_url": os.environ["REDIS_URL"], "revocation_cache": True}
    container = make_test_container(backends=["jwt"], stores="redis", store=store)
    users = MemoryUserRepository()
    container.user_repository.override(users)
    container.user_loader.override(user_loader_for(users))
    app = NexiosApp()

    @app.get("/")
    async def index(request: Any, response: Any) -> Any:
        return {"ok": True}

    @app.get("/me")
    async def me(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    install(app, container)
    app.mount_router(auth_router(container, login_mode="tokens"))

    async def report() -> None:  # registered after install's handler, so it runs after it
        print(f"STILL OPEN AT SHUTDOWN: {await still_open()}", file=sys.stderr, flush=True)

    app.on_shutdown(report)
    return app


async def still_open() -> list[str]:
    """What remains of the container after its shutdown: connections to our private Redis
    (other than this check's), live revocation-cache tasks, live hashing threads."""
    import asyncio

    import redis.asyncio as aioredis

    async with aioredis.Redis.from_url(os.environ["REDIS_URL"]) as admin:
        for _ in range(40):  # the server notices closed sockets a moment later
            connections = len(await admin.client_list()) - 1
            if not connections:
                break
            await asyncio.sleep(0.05)
    left = [f"{connections} Redis connection(s)"] if connections else []
    left += [t.get_name() for t in asyncio.all_tasks() if "revcache" in t.get_name()]
    for thread in threading.enumerate():
        if thread.name.startswith("nexios-auth-argon2"):
            thread.join(timeout=1.0)
            left += [thread.name] if thread.is_alive() else []
    return left


class Server:
    """``python -m uvicorn --factory <target>`` on a free port, its stderr in a file."""

    def __init__(self, target: str, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        args = [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1"]
        args += ["--port", self.url.rsplit(":", 1)[1]]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        path = os.pathsep.join([str(REPO), str(REPO / "tests"), str(REPO / "tests/integration")])
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            env={**os.environ, **env, "PYTHONPATH": path},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,  # a terminal's Ctrl-C never reaches it by accident
        )

    def errors(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"uvicorn exited early:\n{self.errors()}"
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"uvicorn not ready in {READY_TIMEOUT} s:\n{self.errors()}")

    def traffic(self) -> None:
        """Register, log in, one bearer request: every resource is now open."""
        assert httpx.post(self.url + "/auth/register", json=CREDS).status_code == 201
        login = httpx.post(self.url + "/auth/login", json=CREDS)
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert httpx.get(self.url + "/me", headers=bearer).json()["username"] == "ada"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Server, Path]]:
    """The app for ``request.param`` ("sqlite": the demo itself), serving and warmed up."""
    if request.param == "sqlite":
        server = Server("examples.quickstart.app:create_app", {"EXAMPLE_DATA_DIR": str(tmp_path)})
    else:
        # a private server: every connection left at shutdown is the app's
        redis: RedisProcess = request.getfixturevalue("redis_process")
        server = Server("test_shutdown:create_redis_app", {"REDIS_URL": redis.url})
    try:
        server.wait_ready()
        server.traffic()
        yield request.param, server, tmp_path
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(
    "served", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)], indirect=True
)
def test_one_signal_ends_the_server(served: tuple[str, Server, Path], sig: signal.Signals) -> None:
    """One SIGINT/SIGTERM after real traffic ends uvicorn within EXIT_BOUND seconds with a
    clean exit, after the app's shutdown ran (no second Ctrl-C, no leftover thread)."""
    store, server, data_dir = served
    started = time.monotonic()
    server.proc.send_signal(sig)
    try:
        code = server.proc.wait(timeout=EXIT_BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {EXIT_BOUND} s after {sig.name}:\n{server.errors()}")
    took = time.monotonic() - started
    print(f"\nshutdown {sig.name}: exit {code} after {took:.3f} s")
    log = server.errors()
    assert code in (0, -sig), log
    assert "Application shutdown complete" in log, log
    assert "Traceback" not in log, log
    if store == "redis":  # the app reports what its container left open
        assert "STILL OPEN AT SHUTDOWN: []" in log, log
    # SQLite deletes the WAL file when the last connection closes cleanly
    assert not list(data_dir.glob("*.sqlite3-wal")), "a SQLite connection was left open"
