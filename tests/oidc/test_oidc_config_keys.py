"""OIDC settings validation, secrets kept out of reprs, the return-URL rule, and the
JWKS cache: refetched on a new kid at most once per interval (real provider)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from oidc_helpers import CLIENT_ID, PROVIDER, claims_for, mint, provider_key

from nexios_auth_di.config import Settings
from nexios_auth_di.exceptions import BadRequest, ConfigurationError
from nexios_auth_di.oidc.client import IdTokenRejected
from nexios_auth_di.oidc.flow import safe_next

BASE = {"jwt": {"secret_key": "x" * 40}}
GOOD = {"issuer": "https://idp.example", "client_id": "app", "client_secret": "s3cr3t-value"}


def _load(provider: Any, **oidc: Any) -> Settings:
    return Settings.load({**BASE, "oidc": {"providers": {"p": provider}, **oidc}})


P = "oidc.providers.p."
BAD = [
    pytest.param({**GOOD, "issuer": "http://idp.example"}, P + "issuer", id="http-issuer"),
    pytest.param({**GOOD, "issuer": ""}, P + "issuer", id="no-issuer"),
    pytest.param({**GOOD, "client_id": ""}, P + "client_id", id="no-client-id"),
    pytest.param({**GOOD, "scopes": ["email"]}, P + "scopes", id="no-openid-scope"),
    pytest.param({**GOOD, "redirect_uri": "/cb"}, P + "redirect_uri", id="relative-redirect"),
    pytest.param({**GOOD, "allow_signup": "maybe"}, P + "allow_signup", id="bad-bool"),
    pytest.param({**GOOD, "extra": 1}, P + "extra", id="unknown-key"),
    pytest.param("not-a-mapping", "oidc.providers.p", id="not-a-mapping"),
]


@pytest.mark.parametrize("name", ["identities", "Upper", "has space", "x" * 33, "-lead"])
def test_bad_provider_names_are_refused(name: str) -> None:
    """A provider name must be a safe path segment and not a route of its own."""
    with pytest.raises(ConfigurationError, match=r"oidc\.providers"):
        Settings.load({**BASE, "oidc": {"providers": {name: GOOD}}})


@pytest.mark.parametrize(("provider", "key"), BAD)
def test_bad_provider_config_names_the_key(provider: Any, key: str) -> None:
    """Every bad provider entry fails at load with the key in the message."""
    with pytest.raises(ConfigurationError, match=key.replace(".", r"\.")):
        _load(provider)


@pytest.mark.parametrize("field", ["flow_ttl", "max_token_age", "jwks_refetch_interval"])
def test_bad_bounds_are_refused(field: str) -> None:
    """The flow, token-age and refetch bounds must be positive."""
    with pytest.raises(ConfigurationError, match=f"oidc.{field}"):
        _load(GOOD, **{field: 0})


def test_good_config_and_secret_not_in_repr() -> None:
    """A good entry loads with defaults (signup on, openid scopes) and its client secret
    appears in no repr of the settings (so no log line prints it)."""
    settings = _load(GOOD)
    conf = settings.oidc.providers["p"]
    assert conf.allow_signup is True
    assert "openid" in conf.scopes
    assert conf.client_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)


@pytest.mark.parametrize(
    "target", ["/", "/dashboard", "/a/b?x=1&y=%20z#frag", "/caf%C3%A9", "/path;param"]
)
def test_same_origin_paths_are_kept(target: str) -> None:
    """A same-origin path (query, fragment, escapes) passes through unchanged."""
    assert safe_next(target) == target


def test_missing_next_defaults_to_root() -> None:
    """No return URL means the site root."""
    assert safe_next(None) == "/"


def test_triple_encoded_slashes_are_refused() -> None:
    """Encoding layered past the decode limit is refused, not trusted."""
    with pytest.raises(BadRequest):
        safe_next("/%25252F%25252Fevil")


def test_unknown_kids_refetch_at_most_once_per_interval(make_oidc_env: Any) -> None:
    """100 tokens with made-up kids cost one JWKS refetch, not 100; within the interval
    none more; after it, one more (so a rotated provider key is still picked up)."""
    env = make_oidc_env("tokens")
    client = env.client_of()
    key = provider_key(env.provider.key_file).key
    good = mint(key, "test-rs256", claims_for(env.provider.issuer, "n"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def run() -> None:
        assert (await client.verify_id_token(good, "n"))["aud"] == CLIENT_ID
        assert client.jwks_fetches == 1
        interval = env.container.settings().oidc.jwks_refetch_interval
        env.clock.advance(interval + 1)
        forged = [mint(other, f"kid-{i}", claims_for(env.provider.issuer, "n")) for i in range(100)]
        results = await asyncio.gather(
            *(client.verify_id_token(t, "n") for t in forged), return_exceptions=True
        )
        assert all(isinstance(r, IdTokenRejected) for r in results)
        assert client.jwks_fetches == 2  # one refetch for the whole storm
        with pytest.raises(IdTokenRejected):
            await client.verify_id_token(forged[0], "n")
        assert client.jwks_fetches == 2  # within the interval: no fetch at all
        env.clock.advance(interval + 1)
        with pytest.raises(IdTokenRejected):
            await client.verify_id_token(forged[0], "n")
        assert client.jwks_fetches == 3
        assert (await client.verify_id_token(good, "n"))["sub"]  # cached key: no fetch
        assert client.jwks_fetches == 3

    asyncio.run(run())
    assert PROVIDER in env.container.oidc_clients()
