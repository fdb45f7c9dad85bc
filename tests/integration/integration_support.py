"""Processes for the integration tests: uvicorn workers and a redis-server we own.

Every process is started by id and stopped by id (its own process group for uvicorn,
whose ``--workers`` mode forks children), always in a ``finally``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from support.redis_server import free_port

REPO = Path(__file__).resolve().parents[2]
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
READY_TIMEOUT = 20.0


def example_app() -> ModuleType:
    """``examples/multiworker_app.py`` as a module (the repo root is not on sys.path)."""
    name = "examples.multiworker_app"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / "multiworker_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Worker:
    """``uvicorn examples.multiworker_app:app`` on 127.0.0.1:``port`` with ``env``."""

    def __init__(self, env: dict[str, str], *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [UVICORN, "examples.multiworker_app:app", "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--log-level", "warning"]
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
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}: {self.errors()}")
            try:
                pid: int = httpx.get(self.url + "/pid", timeout=1.0).json()["pid"]
                return pid
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"uvicorn on port {self.port} not ready in {READY_TIMEOUT} s")

    def errors(self) -> str:
        """The tail of the worker's stderr, for failure messages."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request on a fresh connection (so ``--workers`` may route it anywhere)."""
        return httpx.request(method, self.url + path, timeout=5.0, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
