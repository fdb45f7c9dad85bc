"""Sessions: tests, lint, typecheck, bench, loadtest, soak, demo.

They run in the environment nox itself runs in (``venv_backend="none"``, tools invoked
as ``sys.executable -m ...``): the README's commands create ``.venv`` with
``pip install -e .[dev]`` and call ``.venv/bin/nox``, so there is one install, not one
per session, and nothing depends on what else is on ``PATH``.
"""

from __future__ import annotations

import glob
import os
import sys

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PY = sys.executable
PACKAGES = ["nexios_auth_di", "tests", "benchmarks", "examples", "noxfile.py"]


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The whole suite. Redis tests need REDIS_URL (see README); CI always sets it."""
    if not os.environ.get("REDIS_URL"):
        session.warn(
            "REDIS_URL is not set: Redis tests will be skipped. Start a throwaway server "
            'with: eval "$(scripts/redis-test-server.sh)"'
        )
    if not os.environ.get("DATABASE_URL"):
        session.warn(
            "DATABASE_URL is not set: PostgreSQL tests will be skipped. Start a throwaway "
            'cluster with: eval "$(scripts/postgres-test-server.sh)"'
        )
    session.run(PY, "-m", "pytest", *session.posargs)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.run(PY, "-m", "ruff", "check", *PACKAGES)
    session.run(PY, "-m", "ruff", "format", "--check", *PACKAGES)


@nox.session(venv_backend="none")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package (settings in pyproject.toml)."""
    session.run(PY, "-m", "mypy")


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks; installs the peer frameworks they compare against."""
    session.run(PY, "-m", "pip", "install", "-q", "fastapi", "litestar", "starlette")
    for script in sorted(glob.glob("benchmarks/bench_*.py")):
        session.run(PY, script)


@nox.session(venv_backend="none")
def loadtest(session: nox.Session) -> None:
    """Real uvicorn (2 workers) over Redis under load, then Redis frozen for 5 s, then
    the store footprint and Redis commands per request (benchmarks/loadtest/; a private
    Redis unless REDIS_URL is set). Bounded: about 2 minutes."""
    session.run(PY, "benchmarks/loadtest/run.py")
    session.run(PY, "benchmarks/loadtest/footprint.py")


@nox.session(venv_backend="none")
def soak(session: nox.Session) -> None:
    """60 s of issue/refresh/revoke against Redis, sampling the workers' RSS."""
    session.run(PY, "benchmarks/loadtest/soak.py")


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """Serve examples/quickstart on http://127.0.0.1:8000 (SQLite, nothing else to install)."""
    port = os.environ.get("PORT", "8000")
    session.run(
        PY,
        "-m",
        "uvicorn",
        "--factory",
        "examples.quickstart.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        env={"PORT": port},  # the app's first-run banner names the same port
    )


@nox.session(venv_backend="none")
def web(session: nox.Session) -> None:
    """Serve examples/web_session (HTML login form, sessions) on http://localhost:8001."""
    port = os.environ.get("PORT", "8001")
    session.run(
        PY, "-m", "uvicorn", "--factory", "examples.web_session.app:create_app",
        "--host", "127.0.0.1", "--port", port, env={"PORT": port},
    )  # fmt: skip


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Build the mkdocs site with --strict into site/ (gitignored); a broken link fails."""
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run(PY, "-m", "mkdocs", "build", "--strict", "--site-dir", "site")
