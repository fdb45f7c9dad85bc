"""Redis test plumbing shared by every folder: a URL that is never skipped in CI, and a
redis-server a test owns (to kill and restart it). Imported by ``tests/conftest.py``."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

SKIP_HINT = 'Redis tests need a server: eval "$(scripts/redis-test-server.sh)" then re-run'
CLUSTER_HINT = (
    'Redis Cluster tests need a cluster: eval "$(scripts/redis-cluster-test-server.sh)" then re-run'
)


def missing(reason: str) -> None:
    """Skip locally with the fix in the message; in CI (``CI=true``) fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (never skipped in CI)")
    pytest.skip(reason)


def node_clients(url: str) -> list[redis.Redis]:
    """A plain client per server behind ``url``: the server itself, or every primary of a
    ``redis+cluster://`` cluster (for CLIENT LIST / CLIENT KILL, which are per node)."""
    if "+cluster://" not in url:
        return [redis.Redis.from_url(url)]
    plain = url.replace("+cluster://", "://", 1)
    with redis.RedisCluster.from_url(plain) as cluster:
        nodes = [(n.host, n.port) for n in cluster.get_primaries()]
    return [redis.Redis(host=host, port=port) for host, port in nodes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisProcess:
    """A redis-server we own, on a fixed port, so a test may kill and restart it."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        args += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.025)
        self.kill()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared test server from ``REDIS_URL``."""
    url = os.environ.get("REDIS_URL")
    if not url:
        missing(SKIP_HINT)
    assert url is not None
    return url


@pytest.fixture(scope="session")
def redis_cluster_url() -> str:
    """The shared test cluster from ``REDIS_CLUSTER_URL`` (``redis+cluster://...``)."""
    url = os.environ.get("REDIS_CLUSTER_URL")
    if not url:
        missing(CLUSTER_HINT)
    assert url is not None
    return url


@pytest.fixture
def redis_server_bin() -> str:
    path = shutil.which("redis-server")
    if path is None:
        missing("redis-server is not installed: run scripts/redis-test-server.sh once")
    assert path is not None
    return path


@pytest.fixture
def redis_process(redis_server_bin: str) -> Iterator[RedisProcess]:
    """A private redis-server on a free port, killed after the test."""
    server = RedisProcess(redis_server_bin, free_port())
    server.start()
    yield server
    server.kill()


SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


class RedisClusterProcess:
    """A private 3-master cluster (``scripts/redis-cluster-test-server.sh`` in its own state
    directory), so a test may kill one node and start it again."""

    def __init__(self, state_dir: Path) -> None:
        self.env = os.environ | {
            "REDIS_CLUSTER_TEST_DIR": str(state_dir),
            "REDIS_CLUSTER_NODE_TIMEOUT": "1000",  # the cluster notices a dead node sooner
        }
        self.state_dir = state_dir
        self.url = ""

    def _script(self, *args: str) -> str:
        script = str(SCRIPTS / "redis-cluster-test-server.sh")
        done = subprocess.run(
            ["bash", script, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def start(self) -> None:
        self.url = self._script("start").strip().removeprefix("export REDIS_CLUSTER_URL=")

    @property
    def ports(self) -> list[int]:
        return [int(p) for p in (self.state_dir / "ports").read_text().split()]

    def kill(self, port: int) -> None:
        """SIGKILL one node (its data is gone: the nodes run without persistence)."""
        pid = int((self.state_dir / f"node-{port}.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        while True:  # reaped by init: wait until the pid is gone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def start_node(self, port: int) -> None:
        self._script("start-node", str(port))

    def stop(self) -> None:
        self._script("stop")


@pytest.fixture
def redis_cluster_process(tmp_path: Path, redis_server_bin: str) -> Iterator[RedisClusterProcess]:
    """A private Redis Cluster for one test, stopped afterwards."""
    if shutil.which("redis-cli") is None:
        missing("redis-cli is not installed (Debian's redis-tools)")
    cluster = RedisClusterProcess(tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()
