"""PostgreSQL test plumbing shared by every folder: the URL of the shared test cluster
(``scripts/postgres-test-server.sh``; never skipped in CI) and a private cluster a test
owns, to stop and restart it. Imported by ``tests/conftest.py``."""

from __future__ import annotations

import asyncio
import concurrent.futures
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.redis_server import free_port, missing

SKIP_HINT = 'PostgreSQL tests need a server: eval "$(scripts/postgres-test-server.sh)" then re-run'


def postgres_bin() -> Path | None:
    """Debian's PostgreSQL binaries (``/usr/lib/postgresql/<major>/bin``), if installed."""
    for candidate in [
        os.environ.get("POSTGRES_BIN", ""),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin")),
    ]:
        if candidate and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


class PostgresProcess:
    """A throwaway cluster in its own directory on a fixed port: ``stop()`` then
    ``start()`` is a server going away and coming back with its data."""

    def __init__(self, bindir: Path, port: int) -> None:
        self.bindir, self.port = bindir, port
        self.root = Path(tempfile.mkdtemp(prefix="nxauth-pg-"))
        self.data = self.root / "data"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_root:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   "-c unix_socket_directories='' -c fsync=off")  # fmt: skip
        log = str(self.root / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        """Stop at once (``-m immediate``: connections are cut, as in a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url() -> str:
    """The shared PostgreSQL test database from ``DATABASE_URL``."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        missing(SKIP_HINT)
    assert url is not None
    return url


@pytest.fixture
def postgres_process() -> Iterator[PostgresProcess]:
    """A private PostgreSQL cluster on a free port, removed after the test."""
    bindir = postgres_bin()
    if bindir is None:
        missing("PostgreSQL is not installed: run scripts/postgres-test-server.sh once")
    assert bindir is not None
    server = PostgresProcess(bindir, free_port())
    server.start()
    yield server
    server.remove()


async def _admin(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _admin_sync(url: str, statement: str) -> None:
    """``_admin`` on a loop of its own in a worker thread: callable from sync code and
    from inside a running loop (an async fixture) alike."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin(url, statement)).result()


def new_postgres_database(server_url: str) -> tuple[str, str]:
    """``(name, url)`` of a new, empty database on the server of ``server_url``."""
    from sqlalchemy.engine import make_url

    name = f"nxauth_test_{secrets.token_hex(6)}"
    _admin_sync(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_postgres_database(server_url: str, name: str) -> None:
    _admin_sync(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database_url(database_url: str) -> Iterator[str]:
    """An empty database of its own on the shared PostgreSQL test server, dropped after."""
    name, url = new_postgres_database(database_url)
    yield url
    drop_postgres_database(database_url, name)
