"""What the load test and the soak run against: a private Redis and real uvicorn.

Redis: ``REDIS_URL`` if set (then the runner does not own it and never freezes it), else
a throwaway server from ``scripts/redis-test-server.sh`` in a private ``REDIS_TEST_DIR``,
stopped at the end. uvicorn: ``benchmarks.loadtest.app:app`` with ``--workers`` on
127.0.0.1, in its own process group, stopped by id.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
#: charts live beside the docs page that shows them (mkdocs serves only docs/)
CHARTS = REPO / "docs" / "img"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Redis:
    """The Redis the run uses; ``pid`` is set only for a server this run started."""

    def __init__(self) -> None:
        self.url = os.environ.get("REDIS_URL", "")
        self.pid: int | None = None
        self.state_dir: str | None = None
        if not self.url:
            self.state_dir = tempfile.mkdtemp(prefix="nxauth-loadtest-redis-")
            out = subprocess.run(
                ["bash", str(REPO / "scripts" / "redis-test-server.sh")],
                env={**os.environ, "REDIS_TEST_DIR": self.state_dir},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            self.url = out.strip().removeprefix("export REDIS_URL=")
            self.pid = int(Path(self.state_dir, "redis.pid").read_text())

    def cli(self, *args: str) -> str:
        host_port = self.url.split("//", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        cmd = ["redis-cli", "-h", host, "-p", port, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout

    def monitor(self) -> Monitor:
        """A ``MONITOR`` connection recording every command, until ``Monitor.stop``."""
        host_port = self.url.split("//", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        return Monitor(host, int(port))

    def version(self) -> str:
        for line in self.cli("INFO", "server").splitlines():
            if line.startswith("redis_version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    def freeze(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.state_dir is None:
            return
        if self.pid is not None:
            self.thaw()  # never leave it stopped
        subprocess.run(
            ["bash", str(REPO / "scripts" / "redis-test-server.sh"), "stop"],
            env={**os.environ, "REDIS_TEST_DIR": self.state_dir},
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.state_dir, ignore_errors=True)


class Monitor:
    """Redis ``MONITOR`` on a raw socket, read by a thread (no pipe buffer to lose)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.sendall(b"MONITOR\r\n")
        self.data = bytearray()
        while b"+OK\r\n" not in self.data:
            self.data += self.sock.recv(65536)
        self.data.clear()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        self.sock.settimeout(0.1)
        while not self.done.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            self.data += chunk

    def stop(self, ignored: set[str]) -> int:
        """Commands sent by clients (not run from Lua) that it saw, less ``ignored``."""
        time.sleep(0.3)  # the last lines arrive
        self.done.set()
        self.thread.join()
        self.sock.close()
        count = 0
        for line in self.data.decode(errors="replace").splitlines():
            if "[0 lua]" in line or '"' not in line:
                continue
            count += line.split('"', 2)[1].lower() not in ignored
        return count


class Server:
    """``uvicorn benchmarks.loadtest.app:app --workers N`` on a free 127.0.0.1 port."""

    def __init__(
        self,
        redis_url: str,
        namespace: str,
        *,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.pids: list[int] = []
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        args = [sys.executable, "-m", "uvicorn", "benchmarks.loadtest.app:app"]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        args += ["--log-level", "warning", "--no-access-log"]
        env = {**os.environ, "NEXIOS_AUTH_REDIS_URL": redis_url}
        env["NEXIOS_AUTH_NAMESPACE"] = namespace
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )

    def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers=hdrs, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, (json.loads(resp.read() or b"null"), resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, (None, err.headers)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every worker answered ``/pid`` (fresh connections land on any worker)."""
        deadline, seen = time.monotonic() + timeout, set()
        while time.monotonic() < deadline and len(seen) < self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {self.errors()}")
            try:
                seen.add(self.call("GET", "/pid")[1][0]["pid"])
            except OSError:
                time.sleep(0.1)
        if len(seen) < self.workers:
            raise RuntimeError(f"only {len(seen)} of {self.workers} workers answered")
        self.pids = sorted(seen)

    def worker_pids(self) -> list[int]:
        """The workers that answered ``/pid`` (not uvicorn's supervisor or helpers)."""
        return list(self.pids)

    def errors(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def versions(redis: Redis) -> dict[str, str]:
    from importlib.metadata import version

    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "nexios": version("nexios"),
        "uvicorn": version("uvicorn"),
        "redis_server": redis.version(),
        "redis_py": version("redis"),
        "nexios_auth_di": version("nexios-auth-di"),
    }
