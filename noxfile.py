"""Sessions: tests, lint, typecheck, bench, demo.

They run in the environment nox itself runs in (``venv_backend="none"``): the README's
commands create ``.venv`` with ``pip install -e .[dev]`` and call ``.venv/bin/nox``, so
there is one install, not one per session.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = ["nexios_auth_di", "tests", "benchmarks", "examples", "noxfile.py"]


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The whole suite. Redis tests need REDIS_URL (see README); CI always sets it."""
    if not os.environ.get("REDIS_URL"):
        session.warn(
            "REDIS_URL is not set: Redis tests will be skipped. Start a throwaway server "
            'with: eval "$(scripts/redis-test-server.sh)"'
        )
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.run("ruff", "check", *PACKAGES)
    session.run("ruff", "format", "--check", *PACKAGES)


@nox.session(venv_backend="none")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package (settings in pyproject.toml)."""
    session.run("mypy")


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks; installs the peer frameworks they compare against."""
    session.run("python", "-m", "pip", "install", "-q", "fastapi", "litestar", "starlette")
    for script in ("bench_core.py", "bench_tokens.py", "bench_stores.py", "bench_passwords.py"):
        if os.path.exists(f"benchmarks/{script}"):
            session.run("python", f"benchmarks/{script}")


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """Serve the example app on http://127.0.0.1:8000 (SQLite, nothing else to install)."""
    port = os.environ.get("PORT", "8000")
    session.run(
        "python",
        "-m",
        "uvicorn",
        "--factory",
        "examples.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        port,
    )
