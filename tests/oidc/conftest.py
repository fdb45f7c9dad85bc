"""A real OpenID Provider (npm oidc-provider, scripts/oidc-test-server.sh) and our app,
a real Nexios app over SQLite users served by TestClient, configured for it.

The provider comes from ``OIDC_ISSUER`` (``.ci/run`` starts it), else this session
starts one in a private directory and stops it at the end. Without node/npm: skipped
locally, failed in CI (``support.redis_server.missing``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from nexios.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "routes"))

from oidc_helpers import CLIENT_ID, CLIENT_SECRET, PROVIDER, OurBrowser
from route_helpers import Env, build_app
from support.clock import FakeClock
from support.redis_server import missing

from nexios_auth_di.events import MemorySink
from nexios_auth_di.testing import make_test_container
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "oidc-test-server.sh"


@dataclass
class Provider:
    issuer: str
    key_file: str


def _parse(exports: str) -> dict[str, str]:
    found = {}
    for line in exports.splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = value
    return found


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider's issuer and its signing-key file."""
    issuer, key_file = os.environ.get("OIDC_ISSUER"), os.environ.get("OIDC_SIGNING_KEY_FILE")
    if issuer and key_file:
        yield Provider(issuer, key_file)
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing('OIDC tests need node and npm: eval "$(scripts/oidc-test-server.sh)"')
    env = {**os.environ, "OIDC_TEST_DIR": str(tmp_path_factory.mktemp("oidc-provider"))}
    started = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if started.returncode != 0:
        missing(f"scripts/oidc-test-server.sh failed: {started.stderr[-1000:]}")
    exports = _parse(started.stdout)
    try:
        yield Provider(exports["OIDC_ISSUER"], exports["OIDC_SIGNING_KEY_FILE"])
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, timeout=60, check=False)


@pytest.fixture
def clock() -> FakeClock:
    """Wall time that a test may move on (the provider's tokens carry real times)."""
    return FakeClock(time.time())


@dataclass
class OIDCEnv(Env):
    provider: Provider | None = None
    clock: Any = None

    def agent(self) -> OurBrowser:
        """A browser of its own for the OIDC routes (its own flow cookie)."""
        return OurBrowser(self.client)

    def client_of(self) -> Any:
        return self.container.oidc_clients()[PROVIDER]


@pytest.fixture
def make_oidc_env(
    tmp_path: Path, clock: FakeClock, oidc_provider: Provider
) -> Iterator[Callable[..., OIDCEnv]]:
    """Build our app for the real provider; ``provider`` merges over its settings."""
    opened: list[TestClient] = []

    def make(
        login_mode: str | None = "tokens", provider: dict[str, Any] | None = None, **config: Any
    ) -> OIDCEnv:
        repo = SqliteUserRepository(tmp_path / f"users{len(opened)}.sqlite3")
        entry = {"issuer": oidc_provider.issuer, "client_id": CLIENT_ID,
                 "client_secret": CLIENT_SECRET, **(provider or {})}  # fmt: skip
        oidc = {"providers": {PROVIDER: entry}, **config.pop("oidc", {})}
        container = make_test_container(oidc=oidc, **config)
        container.clock.override(providers.Object(clock))
        container.user_loader.override(providers.Object(user_loader_for(repo)))
        container.user_repository.override(providers.Object(repo))
        sink = MemorySink()
        container.event_sink.override(providers.Object(sink))
        client = TestClient(build_app(container, login_mode), base_url="https://testserver")
        client.__enter__()
        opened.append(client)
        return OIDCEnv(client, container, repo, sink, provider=oidc_provider, clock=clock)

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def provider_up(issuer: str) -> bool:
    try:
        return httpx.get(issuer + "/.well-known/openid-configuration", timeout=2).is_success
    except httpx.HTTPError:
        return False
