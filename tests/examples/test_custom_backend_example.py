"""examples/custom_backend: the guide's header backend, provided by the container."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from dependency_injector import providers
from nexios.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples.custom_backend.app import build_container, create_app
from nexios_auth_di import SimpleUser

TOKENS = {"reports-header-value-0123456789abcdef": "svc-reports"}


@pytest.fixture
def container():
    return build_container(TOKENS)


@pytest.fixture
def client(container):
    with TestClient(create_app(container), base_url="https://testserver") as c:
        yield c


def test_custom_header_authenticates_and_jwt_still_works(client, container):
    """The header names the caller (auth "custom"); a JWT still works beside it."""
    r = client.get("/whoami", headers={"X-Custom-Auth": next(iter(TOKENS))})
    assert r.json() == {"user": "svc-reports", "via": "custom"}
    token = container.token_service().create_access_token("svc-reports")
    r = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"user": "svc-reports", "via": "jwt"}


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({}, id="no-header-ASVS-V2.1"),
        pytest.param({"X-Custom-Auth": "guess"}, id="wrong-value-ASVS-V2.1"),
        pytest.param({"X-Custom-Auth": next(iter(TOKENS))[:-1]}, id="truncated-value-ASVS-V2.1"),
        pytest.param({"X-Custom-Auth": next(iter(TOKENS)) + "x"}, id="extended-value-ASVS-V2.1"),
    ],
)
def test_unknown_header_values_are_refused(client, header):
    """Anything but an exact known header value is anonymous: 401 with a JSON body."""
    r = client.get("/whoami", headers=header)
    assert r.status_code == 401
    assert r.json()["error"]


def test_loader_override_reaches_the_custom_backend(client, container):
    """The backend asks the container's user_loader per request, so an override applies."""
    header = {"X-Custom-Auth": next(iter(TOKENS))}
    stand_in = {"svc-reports": SimpleUser("stand-in")}
    with container.user_loader.override(providers.Object(stand_in.get)):
        assert client.get("/whoami", headers=header).json()["user"] == "stand-in"
    assert client.get("/whoami", headers=header).json()["user"] == "svc-reports"
