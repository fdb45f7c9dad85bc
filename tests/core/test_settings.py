"""Typed settings: one source of defaults, and one clear line for every bad value."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from dependency_injector import providers
from nexios import NexiosApp

from nexios_auth_di import AuthContainer, ConfigurationError, install, profile_path
from nexios_auth_di.config import PROFILES, Settings, shipped_secrets
from nexios_auth_di.tokens.keys import Key

SECRET = "s" * 40
OK: dict[str, Any] = {"jwt": {"secret_key": SECRET}}


def _with(**sections: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {"jwt": {"secret_key": SECRET}}
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = {**merged[name], **value}
        else:
            merged[name] = value
    return merged


# (case id, config, text the one-line error must contain)
BAD_CONFIG = [
    ("unknown top-level key (typo)", _with(backend=["jwt"]), "unknown setting backend"),
    ("unknown nested key (typo)", _with(jwt={"acess_ttl": 5}), "unknown setting jwt.acess_ttl"),
    ("unknown backend", _with(backends=["jwt", "oauth"]), "backends"),
    ("empty backends", _with(backends=[]), "backends"),
    ("unknown store engine", _with(stores="mongo"), "stores unknown engine"),
    ("redis without url", _with(stores="redis"), "store.redis_url is not set"),
    ("sqlalchemy without url", _with(stores="sqlalchemy"), "store.database_url is not set"),
    ("cache without redis", _with(store={"revocation_cache": True}), "store.revocation_cache"),
    (
        "short jwt secret (RFC 7518 §3.2)",
        {"jwt": {"secret_key": "short"}},
        "jwt.secret_key is shorter",
    ),
    ("missing jwt secret", {"backends": ["jwt"]}, "jwt.secret_key (or jwt.keys) is not set"),
    (
        "short session secret",
        _with(backends=["session"], session={"secret_key": "x" * 8}),
        "session.secret_key is shorter",
    ),
    ("negative ttl", _with(jwt={"access_ttl": -1}), "jwt.access_ttl must be positive"),
    ("ttl not a number", _with(jwt={"access_ttl": "soon"}), "jwt.access_ttl must be a number"),
    ("fractional ttl", _with(jwt={"refresh_ttl": 1.5}), "jwt.refresh_ttl must be a whole number"),
    (
        "no login allowed (RFC 9700 §4.14.2 bound)",
        _with(jwt={"max_families_per_user": 0}),
        "jwt.max_families_per_user must be positive",
    ),
    ("bool as number", _with(jwt={"leeway": True}), "jwt.leeway must be a number"),
    ("bad samesite", _with(session={"samesite": "sometimes"}), "session.samesite must be one of"),
    (
        "samesite none without secure",
        _with(session={"samesite": "none", "secure": False}),
        "session.samesite none needs session.secure",
    ),
    (
        "__Host- without secure (RFC 6265bis)",
        _with(session={"host_prefix": True, "secure": False}),
        "session.host_prefix needs",
    ),
    ("bad bool", _with(session={"secure": "maybe"}), "session.secure must be true or false"),
    (
        "API-key default ttl beyond max_ttl",
        _with(api_key={"default_ttl": 100, "max_ttl": 10}),
        "api_key.default_ttl must be at most api_key.max_ttl",
    ),
    ("API-key cap zero", _with(api_key={"max_per_user": 0}), "api_key.max_per_user must be"),
    (
        "padded grantable scope",
        _with(api_key={"grantable_scopes": [" notes:write"]}),
        "api_key.grantable_scopes must hold non-empty scope names",
    ),
    ("throttle not a pair", _with(throttle={"per_ip": [5]}), "throttle.per_ip must be a list of 2"),
    ("username min zero", _with(usernames={"min_length": 0}), "usernames.min_length must be"),
    (
        "username max below min",
        _with(usernames={"min_length": 10, "max_length": 5}),
        "usernames.max_length must be between",
    ),
    (
        "username max over the request cap",
        _with(usernames={"max_length": 500}),
        "usernames.max_length must be between",
    ),
    (
        "mixed scripts not a bool (UTS #39 §5.1)",
        _with(usernames={"allow_mixed_scripts": "sometimes"}),
        "usernames.allow_mixed_scripts must be true or false",
    ),
    (
        "throttle zero limit",
        _with(throttle={"per_account": [0, 60]}),
        "throttle.per_account must be",
    ),
    (
        "throttle zero register limit",
        _with(throttle={"register_per_ip": [0, 3600]}),
        "throttle.register_per_ip must be",
    ),
    (
        "zero hashing queue",
        _with(passwords={"queue_depth": 0}),
        "passwords.queue_depth must be positive",
    ),
    (
        "zero hashing threads",
        _with(passwords={"max_concurrency": 0}),
        "passwords.max_concurrency must be positive",
    ),
    ("bad throttle storage", _with(throttle={"storage": "mongo://x"}), "throttle.storage"),
    ("section not a mapping", _with(jwt="HS256"), "jwt must be a mapping"),
    ("bad login mode", _with(routes={"login_mode": "magic"}), "routes.login_mode must be one of"),
    ("unknown profile", _with(profile="staging"), "profile must be one of"),
    (
        "production with insecure cookies",
        _with(profile="production", session={"secure": False}),
        "session.secure must be true with the production profile",
    ),
    (
        "production with a shipped dev secret",
        {"profile": "production", "jwt": {"secret_key": next(iter(shipped_secrets()))}},
        "is a secret published in a shipped profile",
    ),
]


@pytest.mark.parametrize(("case", "config", "expected"), BAD_CONFIG, ids=[c[0] for c in BAD_CONFIG])
def test_bad_config_fails_with_one_line_naming_the_key(
    case: str, config: dict[str, Any], expected: str
) -> None:
    """A bad value fails when the container loads, with one line that names the key."""
    container = AuthContainer()
    container.config.from_dict(config)
    with pytest.raises(ConfigurationError) as info:
        container.settings()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_defaults_come_from_one_place() -> None:
    """A bare config gets every default from Settings; the container adds none of its own."""
    container = AuthContainer()
    container.config.from_dict(OK)
    settings = container.settings()
    assert settings == Settings(jwt=dataclasses.replace(Settings().jwt, secret_key=SECRET))
    service = container.token_service()
    assert (service.access_ttl, service.refresh_ttl) == (
        Settings().jwt.access_ttl,
        Settings().jwt.refresh_ttl,
    )


def test_values_are_coerced_from_env_strings() -> None:
    """Numbers and booleans from environment interpolation (strings) become typed values."""
    settings = Settings.load(
        _with(jwt={"access_ttl": "600", "leeway": "2.5"}, session={"secure": "true"})
    )
    assert (settings.jwt.access_ttl, settings.jwt.leeway, settings.session.secure) == (
        600,
        2.5,
        True,
    )


@pytest.mark.parametrize("name", PROFILES)
def test_shipped_profiles_load_from_any_directory(name: str, tmp_path: Path) -> None:
    """Profiles ship inside the package: profile_path works whatever the working directory."""
    key = tmp_path / "ed25519.pem"
    key.write_bytes(
        Key.generate("k", "EdDSA").signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {
        **os.environ,
        "NEXIOS_AUTH_JWT_SECRET": "j" * 48,
        "NEXIOS_AUTH_JWT_KEY_FILE": str(key),
        "NEXIOS_AUTH_SESSION_SECRET": "k" * 48,
        "NEXIOS_AUTH_REDIS_URL": "redis://127.0.0.1:1/0",
        "NEXIOS_AUTH_ISSUER": "https://issuer.example",
        "NEXIOS_AUTH_AUDIENCE": "api",
    }
    code = (
        "from nexios_auth_di import AuthContainer, profile_path\n"
        "c = AuthContainer()\n"
        f"c.config.from_yaml(profile_path({name!r}))\n"
        "print(c.settings().profile)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == name


def test_missing_profile_file_names_the_path() -> None:
    """A YAML path that does not exist fails naming that path, not a missing secret."""
    container = AuthContainer()
    with pytest.raises(FileNotFoundError, match=r"no/such/profile\.yaml"):
        container.config.from_yaml("no/such/profile.yaml")


def test_unknown_profile_name_is_refused() -> None:
    """profile_path names the profiles it knows when asked for another."""
    with pytest.raises(ConfigurationError, match="development, testing, production"):
        profile_path("staging")


def _installed(config: dict[str, Any], *, debug: bool) -> None:
    container = AuthContainer()
    container.config.from_dict(config)
    container.user_loader.override(providers.Object(lambda identity: None))
    install(NexiosApp(debug=debug), container)


def test_debug_mode_with_production_profile_refuses_to_start() -> None:
    """install() refuses debug mode under the production profile (debug pages leak data)."""
    with pytest.raises(ConfigurationError, match="debug mode with the production profile"):
        _installed(_with(profile="production"), debug=True)


def test_debug_mode_warns(caplog: pytest.LogCaptureFixture) -> None:
    """install() warns when the app runs in debug mode outside production."""
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di"):
        _installed(OK, debug=True)
    assert any("debug mode" in r.getMessage() for r in caplog.records)


def test_dev_fallback_secret_warns_naming_the_variable(caplog: pytest.LogCaptureFixture) -> None:
    """The development profile's public fallback secret logs one warning naming its env var."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIOS_AUTH_")}
    code = (
        "import logging\n"
        "logging.basicConfig(level=logging.WARNING, format='%(message)s')\n"
        "from dependency_injector import providers\n"
        "from nexios import NexiosApp\n"
        "from nexios_auth_di import AuthContainer, install, profile_path\n"
        "c = AuthContainer()\n"
        "c.config.from_yaml(profile_path('development'))\n"
        "c.config.store.sqlite_path.from_value(':memory:')\n"
        "c.user_loader.override(providers.Object(lambda i: None))\n"
        "install(NexiosApp(debug=False), c)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "NEXIOS_AUTH_JWT_SECRET" in out.stderr
    assert "PUBLIC dev-only fallback secret" in out.stderr


def test_own_secret_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    """A secret of the app's own raises no dev-secret warning."""
    with caplog.at_level(logging.WARNING, logger="nexios_auth_di"):
        _installed(OK, debug=False)
    assert not any("fallback secret" in r.getMessage() for r in caplog.records)
