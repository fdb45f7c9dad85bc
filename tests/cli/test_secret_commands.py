"""``gen-secret`` and ``hash-password``: the material they print is usable by the library
(PyJWT signs and verifies with the key pairs, argon2 verifies the hashes), private keys
land 0600, and nothing is ever overwritten."""

from __future__ import annotations

import base64
import stat

import jwt
import pytest
from argon2 import PasswordHasher
from cli_support import PASSWORD, Env
from cryptography.hazmat.primitives import serialization

from nexios_auth_di.config import Settings


def test_hs256_secret_is_long_random_and_accepted(env: Env) -> None:
    """The default secret is 48 random bytes (urlsafe), differs every run, and the
    library's own settings accept it as jwt.secret_key."""
    first, second = env.invoke(["gen-secret"]), env.invoke(["gen-secret", "--kind", "hs256"])
    assert first.exit_code == second.exit_code == 0
    secret = first.stdout.strip()
    assert secret != second.stdout.strip()
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 48
    settings = Settings.load({"profile": "production", "jwt": {"secret_key": secret}})
    assert settings.jwt.secret_key == secret  # long enough, and not a shipped one


def test_hs256_bits_sets_the_size(env: Env) -> None:
    """``--bits 64`` gives 64 bytes of secret."""
    secret = env.invoke(["gen-secret", "--bits", "64"]).stdout.strip()
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 64


@pytest.mark.parametrize(
    ("kind", "bits", "algorithm"),
    [("rsa", "2048", "RS256"), ("ec", None, "ES256"), ("ec", "384", "ES384"),
     ("ed25519", None, "EdDSA")],
)  # fmt: skip
def test_key_pair_files_sign_and_verify(
    env: Env, kind: str, bits: str | None, algorithm: str
) -> None:
    """``--out DIR`` writes private.pem (0600) and public.pem; a JWT signed with the
    private key verifies with the public one."""
    out = env.tmp / "keys"
    result = env.invoke(["gen-secret", "--kind", kind, "--out", str(out)] + (
        ["--bits", bits] if bits else []))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # nothing secret on the terminal
    private, public = out / "private.pem", out / "public.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE" not in public.read_bytes()
    token = jwt.encode({"sub": "ada"}, private.read_bytes(), algorithm=algorithm)
    assert jwt.decode(token, public.read_bytes(), algorithms=[algorithm])["sub"] == "ada"


def test_key_pair_on_stdout(env: Env) -> None:
    """Without ``--out`` both PEM blocks print, and they form one pair."""
    result = env.invoke(["gen-secret", "--kind", "ed25519"])
    assert result.exit_code == 0
    text = result.stdout
    cut = text.index("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_private_key(text[:cut].encode(), password=None)
    public = serialization.load_pem_public_key(text[cut:].encode())
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert key.public_key().public_bytes(*raw) == public.public_bytes(*raw)


@pytest.mark.parametrize("existing", ["private.pem", "public.pem"])
def test_gen_secret_refuses_to_overwrite(env: Env, existing: str) -> None:
    """An existing private.pem or public.pem is kept byte for byte (exit 1), and no half
    pair is written beside it."""
    out = env.tmp / "keys"
    out.mkdir()
    (out / existing).write_text("keep me")
    result = env.invoke(["gen-secret", "--kind", "ec", "--out", str(out)])
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.stderr
    assert (out / existing).read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == [existing]


@pytest.mark.parametrize(
    ("profile", "memory_kib"),
    [("rfc9106_low_memory", 65536), ("owasp_minimum", 19456), ("test_only_cheap", 8)],
)
def test_hash_password_from_stdin(env: Env, profile: str, memory_kib: int) -> None:
    """The password read from stdin hashes with the chosen argon2id profile, and the
    hash verifies (and only for that password)."""
    result = env.invoke(["hash-password", "--profile", profile], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    hashed = result.stdout.strip()
    assert hashed.startswith(f"$argon2id$v=19$m={memory_kib},")
    assert PASSWORD not in result.output
    assert PasswordHasher().verify(hashed, PASSWORD)
    with pytest.raises(Exception, match="does not match"):
        PasswordHasher().verify(hashed, "wrong horse")


def test_hash_password_keeps_spaces_but_not_the_newline(env: Env) -> None:
    """Only the line ending is stripped: a password with edge spaces hashes as typed."""
    result = env.invoke(["hash-password", "--profile", "test_only_cheap"], input="  pad  \r\n")
    assert PasswordHasher().verify(result.stdout.strip(), "  pad  ")
