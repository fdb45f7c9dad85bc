"""A uvicorn worker a test owns: started in its own process group (``--workers``
forks children) and always stopped by id, with its stderr kept for failure messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from support.redis_server import free_port

REPO = Path(__file__).resolve().parents[2]
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
READY_TIMEOUT = 20.0


class Worker:
    """``uvicorn <app>`` on 127.0.0.1:``port`` with ``env`` (by default the multiworker
    example; ``app_dir`` puts another folder's module on uvicorn's path; ``port`` is a
    free one unless given, for an app that must know its own origin)."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 1,
        app: str = "examples.multiworker_app:app",
        app_dir: Path | None = None,
        timeout: float = 5.0,
        ready_timeout: float = READY_TIMEOUT,
        factory: bool = False,
        port: int | None = None,
    ) -> None:
        self.timeout, self.ready_timeout = timeout, ready_timeout
        self.port = free_port() if port is None else port
        self.url = f"http://127.0.0.1:{self.port}"
        args = [UVICORN, app, "--host", "127.0.0.1"] + (["--factory"] if factory else [])
        args += ["--port", str(self.port), "--log-level", "warning"]
        if app_dir is not None:
            args += ["--app-dir", str(app_dir)]
        if workers > 1:
            args += ["--workers", str(workers)]
        # a file, not a pipe: it never fills up and blocks the worker; closed in stop()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,  # its own group: stop() reaches forked workers too
        )

    def wait_ready(self) -> int:
        """Poll ``/pid`` until it answers (bounded); return the pid that answered."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}: {self.errors()}")
            try:
                pid: int = httpx.get(self.url + "/pid", timeout=1.0).json()["pid"]
                return pid
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"uvicorn on port {self.port} not ready in {self.ready_timeout} s")

    def wait_serving(self, path: str = "/") -> None:
        """Poll ``path`` until the server answers at all (for apps without ``/pid``)."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}: {self.errors()}")
            try:
                httpx.get(self.url + path, timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"uvicorn on port {self.port} not ready in {self.ready_timeout} s")

    def errors(self) -> str:
        """The tail of the worker's stderr, for failure messages."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request on a fresh connection (so ``--workers`` may route it anywhere)."""
        kwargs.setdefault("timeout", self.timeout)
        return httpx.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
