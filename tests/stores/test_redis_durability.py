"""Start-up advice: Redis without persistence would forget revocations on restart."""

from __future__ import annotations

import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from redis.asyncio import Redis
from support.redis_server import RedisProcess, free_port

from nexios_auth_di.container import startup
from nexios_auth_di.stores.redis import RedisDatabase
from nexios_auth_di.testing import make_test_container

pytestmark = pytest.mark.redis


class RedisInTmp(RedisProcess):
    """A private redis-server whose working dir is the test's tmp dir, so turning AOF or
    RDB on never writes files into the repository (``dir`` is protected from CONFIG SET)."""

    def __init__(self, binary: str, folder: Path) -> None:
        super().__init__(binary, free_port())
        self.folder = folder

    def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_ping(self.port)


def wait_for_ping(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.025)
    raise RuntimeError(f"redis-server did not start on port {port}")


@pytest.fixture
def redis_process(redis_server_bin: str, tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisInTmp(redis_server_bin, tmp_path)
    server.start()
    yield server
    server.kill()


async def _configure(url: str, tmp_path: Path, **settings: str) -> None:
    client = Redis.from_url(url)
    try:
        for name, value in settings.items():
            await client.config_set(name, value)
    finally:
        await client.aclose()


# (case, CONFIG values, the problem reported or None)
ROWS = [
    ("no persistence at all", {"appendonly": "no", "save": ""}, "no persistence"),
    ("RDB snapshots only", {"appendonly": "no", "save": "900 1"}, "RDB snapshots only"),
    ("AOF on (appendfsync everysec)", {"appendonly": "yes", "appendfsync": "everysec"}, None),
]


@pytest.mark.parametrize(("case", "config", "problem"), ROWS, ids=[r[0] for r in ROWS])
async def test_durability_problem_reads_the_server_config(
    redis_process: RedisProcess,
    tmp_path: Path,
    case: str,
    config: dict[str, str],
    problem: str | None,
) -> None:
    """durability_problem names what a restart would lose, and nothing when AOF is on."""
    await _configure(redis_process.url, tmp_path, **config)
    database = RedisDatabase(redis_process.url, namespace="durability-test")
    try:
        found = await database.durability_problem()
    finally:
        await database.close()
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


async def test_unreachable_redis_reports_nothing() -> None:
    """A server that cannot be reached gives no advice (and never fails the boot)."""
    database = RedisDatabase("redis://127.0.0.1:1/0", namespace="x", socket_timeout=0.1)
    try:
        assert await database.durability_problem() is None
    finally:
        await database.close()


async def test_startup_warns_for_redis_without_persistence(
    redis_process: RedisProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's start-up logs one warning naming the fix when Redis has no persistence."""
    await _configure(redis_process.url, tmp_path, appendonly="no", save="")
    container = make_test_container(
        stores="redis", store={"redis_url": redis_process.url, "namespace": "durability-test"}
    )
    container.user_loader.override(providers.Object(lambda identity: None))
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di"):
        await startup(container)
    warnings = [r.getMessage() for r in caplog.records if "appendonly yes" in r.getMessage()]
    assert len(warnings) == 1
    await container.stores().close()
