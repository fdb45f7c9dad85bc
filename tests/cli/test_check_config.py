"""``check-config``: the effective settings with every secret masked, and each problem
listed (exit 1) instead of one per restart."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
import yaml
from cli_support import Env
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PRODUCTION_ENV = (
    "NEXIOS_AUTH_JWT_KEY_FILE",
    "NEXIOS_AUTH_ISSUER",
    "NEXIOS_AUTH_AUDIENCE",
    "NEXIOS_AUTH_SESSION_SECRET",
    "NEXIOS_AUTH_REDIS_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NEXIOS_AUTH_* from the machine leaks into what the profiles resolve to."""
    for name in [n for n in os.environ if n.startswith("NEXIOS_AUTH_")]:
        monkeypatch.delenv(name)


def test_production_without_environment_lists_every_problem(env: Env) -> None:
    """The production profile with no environment exits 1 and names each of the five
    variables it needs (not only the first), with the key each one feeds."""
    result = env.invoke(["check-config", "production"])
    assert result.exit_code == 1
    for var in PRODUCTION_ENV:
        assert f"environment variable {var} is not set" in result.stdout
    assert "jwt.keys[0].private_key_file: environment variable NEXIOS_AUTH_JWT_KEY_FILE" in (
        result.stdout
    )
    assert "5 problem(s)" in result.stdout
    assert result.stderr.startswith("Error: 5 problem(s)")
    assert "Traceback" not in result.output


def test_production_with_environment_is_clean_and_masked(
    env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With its environment set (an Ed25519 key file from gen-secret), production passes
    (exit 0); the session secret, the key and the Redis password never appear, the issuer,
    the key file's path and the Redis host do."""
    keys = tmp_path / "keys"
    made = env.invoke(["gen-secret", "--kind", "ed25519", "--out", str(keys)])
    assert made.exit_code == 0, made.output
    session_secret, redis_password = secrets.token_urlsafe(48), secrets.token_hex(16)
    monkeypatch.setenv("NEXIOS_AUTH_JWT_KEY_FILE", str(keys / "private.pem"))
    monkeypatch.setenv("NEXIOS_AUTH_SESSION_SECRET", session_secret)
    monkeypatch.setenv("NEXIOS_AUTH_ISSUER", "https://issuer.example")
    monkeypatch.setenv("NEXIOS_AUTH_AUDIENCE", "notes-api")
    monkeypatch.setenv("NEXIOS_AUTH_REDIS_URL", f"redis://app:{redis_password}@10.0.0.5:6379/0")
    result = env.invoke(["check-config", "production"])
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.stdout
    pem = (keys / "private.pem").read_text().splitlines()[1]
    for secret in (session_secret, redis_password, pem):
        assert secret not in result.output
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines()[1:-1] if line)
    assert lines["session.secret_key"] == '"********"'
    assert lines["jwt.algorithm"] == '"EdDSA"'
    assert lines["store.redis_url"] == '"redis://app:********@10.0.0.5:6379/0"'
    assert lines["jwt.issuer"] == '"https://issuer.example"'
    assert lines["passwords.min_length"] == "12"


def test_production_key_file_missing_is_one_clear_problem(
    env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A key file that is not there is named in one line (no traceback, exit 1)."""
    for name, value in (
        ("NEXIOS_AUTH_JWT_KEY_FILE", str(tmp_path / "absent.pem")),
        ("NEXIOS_AUTH_SESSION_SECRET", secrets.token_urlsafe(48)),
        ("NEXIOS_AUTH_ISSUER", "https://issuer.example"),
        ("NEXIOS_AUTH_AUDIENCE", "api"),
        ("NEXIOS_AUTH_REDIS_URL", "redis://127.0.0.1:1/0"),
    ):
        monkeypatch.setenv(name, value)
    result = env.invoke(["check-config", "production"])
    assert result.exit_code == 1
    assert f"cannot read {str(tmp_path / 'absent.pem')!r}" in result.stdout
    assert "Traceback" not in result.output


@pytest.mark.parametrize("profile", ["development", "testing"])
def test_shipped_secrets_are_problems(env: Env, profile: str) -> None:
    """A profile running on secrets published in the package exits 1 and names them."""
    result = env.invoke(["check-config", profile])
    assert result.exit_code == 1
    assert "jwt.secret_key is a secret published in a shipped profile" in result.stdout
    assert "session.secret_key is a secret published in a shipped profile" in result.stdout


def test_development_with_own_secrets_passes(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the two variables the development profile names clears its problems."""
    monkeypatch.setenv("NEXIOS_AUTH_JWT_SECRET", secrets.token_urlsafe(48))
    monkeypatch.setenv("NEXIOS_AUTH_SESSION_SECRET", secrets.token_urlsafe(48))
    result = env.invoke(["check-config", "development"])
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.stdout


def test_a_clean_file_passes(env: Env) -> None:
    """The tests' own settings file (fresh secrets, SQLite) has no problem and masks both
    secrets."""
    result = env.invoke(["check-config", str(env.config)])
    assert result.exit_code == 0, result.output
    assert env.jwt_secret not in result.output
    assert env.session_secret not in result.output
    assert f"# {env.config}" in result.stdout


def _pem_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def write(tmp: Path, settings: dict[str, object]) -> Path:
    path = tmp / "check.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def test_key_material_is_masked(env: Env) -> None:
    """jwt.keys entries show their kid and algorithm, never their PEM or HMAC material."""
    private, public = _pem_pair()
    hmac_secret = secrets.token_urlsafe(48)
    keys = [
        {"kid": "ec-1", "algorithm": "ES256", "private_key": private, "public_key": public},
        {"kid": "old", "algorithm": "HS256", "secret": hmac_secret},
    ]
    path = write(env.tmp, {"jwt": {"keys": keys, "active_kid": "ec-1"}})
    result = env.invoke(["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert '"ec-1"' in result.stdout
    assert '"ES256"' in result.stdout
    for material in (private.splitlines()[1], public.splitlines()[1], hmac_secret):
        assert material not in result.output


# (rule, settings, fragment of the problem). The secret in each must stay hidden.
BAD_FILES = [
    ("RFC 7518 §3.2: short HS256 secret", {"jwt": {"secret_key": "short-s3cret"}},
     "jwt.secret_key is shorter than 32 bytes"),
    ("typo in a key is named", {"jwt": {"secret_kye": "short-s3cret"}},
     "unknown setting jwt.secret_kye"),
    ("bad PEM in jwt.keys", {"jwt": {"keys": [{"kid": "k", "algorithm": "ES256",
     "private_key": "short-s3cret"}]}}, "jwt keys:"),
    ("a memory engine name typo", {"jwt": {"secret_key": "short-s3cret" * 4}, "stores": "memroy"},
     "unknown engine 'memroy'"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "settings", "says"), BAD_FILES, ids=[r[0] for r in BAD_FILES])
def test_bad_files_exit_1_and_hide_secrets(
    env: Env, rule: str, settings: dict[str, object], says: str
) -> None:
    """Each bad file exits 1 with its problem listed, and even the unparsed view never
    shows the secret it holds."""
    result = env.invoke(["check-config", str(write(env.tmp, settings))])
    assert result.exit_code == 1, (rule, result.output)
    assert says in result.stdout, (rule, result.stdout)
    assert "short-s3cret" not in result.output
    assert "Traceback" not in result.output
