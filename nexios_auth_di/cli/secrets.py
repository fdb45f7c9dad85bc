"""``gen-secret`` and ``hash-password``: key material and password hashes, made by the
same code (CSPRNG, ``cryptography``, the library's argon2id profiles) the app uses."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import click

from nexios_auth_di.cli.common import Failure, read_password, write_new_file
from nexios_auth_di.config import MIN_SECRET_BYTES

__all__ = ["gen_secret", "hash_password"]

KINDS = ("hs256", "rsa", "ec", "ed25519")
DEFAULT_SECRET_BYTES = 48
RSA_BITS = (2048, 3072, 4096)
EC_BITS = {256: "SECP256R1", 384: "SECP384R1", 521: "SECP521R1"}  # ES256 / ES384 / ES512


def _private_key(kind: str, bits: int | None) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if kind == "rsa":
        size = bits or 3072
        if size not in RSA_BITS:
            raise click.BadParameter(f"RSA keys are {RSA_BITS} bits", param_hint="--bits")
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if kind == "ec":
        size = bits or 256
        if size not in EC_BITS:
            raise click.BadParameter(f"EC curves are {tuple(EC_BITS)} bits", param_hint="--bits")
        return ec.generate_private_key(getattr(ec, EC_BITS[size])())
    if bits is not None:
        raise click.BadParameter("ed25519 keys have no size to choose", param_hint="--bits")
    return ed25519.Ed25519PrivateKey.generate()


def _pem_pair(key: Any) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization

    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@click.command("gen-secret")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="hs256",
    show_default=True,
    help="hs256: a shared secret; rsa/ec/ed25519: a PEM key pair.",
)
@click.option(
    "--bits",
    type=int,
    default=None,
    help=f"hs256: secret bytes (>= {MIN_SECRET_BYTES}, default {DEFAULT_SECRET_BYTES}); "
    "rsa: 2048/3072/4096 (3072); ec: 256/384/521 (256).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write private.pem (0600) and public.pem into DIR instead of stdout (never overwrites).",
)
def gen_secret(kind: str, bits: int | None, out: str | None) -> None:
    """Generate a JWT/session secret (hs256) or a signing key pair."""
    if kind == "hs256":
        size = DEFAULT_SECRET_BYTES if bits is None else bits
        if size < MIN_SECRET_BYTES:
            raise click.BadParameter(
                f"an HS256 secret needs at least {MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)",
                param_hint="--bits",
            )
        if out is not None:
            raise click.BadParameter("hs256 secrets print to stdout", param_hint="--out")
        click.echo(secrets.token_urlsafe(size))
        return
    private, public = _pem_pair(_private_key(kind, bits))
    if out is None:
        click.echo(private.decode(), nl=False)
        click.echo(public.decode(), nl=False)
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("private.pem", "public.pem"):  # check both first: never half a pair
        if (folder / name).exists():
            raise Failure(f"{folder / name} already exists: refusing to overwrite it")
    write_new_file(folder / "private.pem", private, 0o600)
    write_new_file(folder / "public.pem", public, 0o644)
    click.echo(f"wrote {folder / 'private.pem'} (0600) and {folder / 'public.pem'}", err=True)


@click.command("hash-password")
@click.option(
    "--profile",
    "argon2_profile",
    default="rfc9106_low_memory",
    show_default=True,
    help="argon2id profile: rfc9106_low_memory, owasp_minimum or test_only_cheap.",
)
def hash_password(argon2_profile: str) -> None:
    """Print the argon2id hash of a password read from a prompt or stdin (never argv)."""
    from nexios_auth_di.exceptions import ConfigurationError
    from nexios_auth_di.passwords.profiles import profile_by_name
    from nexios_auth_di.passwords.service import PasswordService

    try:
        profile = profile_by_name(argon2_profile)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    password = read_password()
    service = PasswordService(profile, min_length=1, allow_cheap=True)
    try:
        click.echo(run_hash(service, password))
    finally:
        service.close()


def run_hash(service: Any, password: str) -> str:
    """The hash, computed in the service's pool like the app's own (no container)."""
    return str(asyncio.run(service.hash(password)))
