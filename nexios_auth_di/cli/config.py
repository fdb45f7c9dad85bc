"""``check-config``: what a profile or YAML file really configures, secrets masked, and
every problem with it, before a deploy finds them one restart at a time.

``Settings.load`` stops at the first problem; this command also lists each environment
variable the file needs and does not get, and each shipped (public) development secret
in use, so one run shows all of them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click

from nexios_auth_di.cli.common import Failure
from nexios_auth_di.config import PROFILES, Settings, profile_path

__all__ = ["check_config", "mask", "missing_env"]

SECRET_KEYS = frozenset({"jwt.secret_key", "session.secret_key"})
#: fields of a ``jwt.keys`` entry that name a key rather than hold it
KEY_LABELS = frozenset({"kid", "alg", "algorithm", "use", "kty", "crv", "not_before", "retire"})
_SECRET_WORDS = ("secret", "password", "private", "passphrase", "token")
_URL_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")
_REQUIRED_ENV = re.compile(r"\$\{(\w+)\}")
MASK = "********"


def _resolve(target: str) -> str:
    if target in PROFILES:
        return profile_path(target)
    path = Path(target)
    if path.is_file():
        return str(path)
    if path.suffix in (".yaml", ".yml") or os.sep in target:
        raise click.BadParameter(f"no such file: {target}", param_hint="PROFILE_OR_PATH")
    raise click.BadParameter(
        f"{target!r} is neither a profile ({', '.join(PROFILES)}) nor a file",
        param_hint="PROFILE_OR_PATH",
    )


def _walk(value: Any, key: str) -> Iterator[tuple[str, Any]]:
    """``(dotted key, leaf)`` pairs; list items as ``key[i]``."""
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _walk(inner, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
        for i, inner in enumerate(value):
            yield from _walk(inner, f"{key}[{i}]")
    else:
        yield key, value


def mask(key: str, value: Any) -> Any:
    """``value`` as it may be shown: secrets and key material hidden, URL passwords too."""
    if value is None or value == "":
        return value
    leaf = key.rsplit(".", 1)[-1]
    material = key.startswith("jwt.keys[") and leaf not in KEY_LABELS
    if key in SECRET_KEYS or material:
        return MASK
    if isinstance(value, str):
        if any(w in leaf.lower() for w in _SECRET_WORDS):  # an app's own secret-ish field
            return MASK
        return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", value)
    if isinstance(value, list | tuple):
        return [mask(key, v) for v in value]
    return value


def missing_env(text: str) -> list[tuple[str, str]]:
    """``(key, VAR)`` for each ``${VAR}`` (no fallback) whose variable is not set."""
    import yaml

    found: list[tuple[str, str]] = []
    for key, leaf in _walk(yaml.safe_load(text) or {}, ""):
        for var in _REQUIRED_ENV.findall(leaf if isinstance(leaf, str) else ""):
            if var not in os.environ:
                found.append((key, var))
    return found


def _settings(raw: Mapping[str, Any], problems: list[str], covered: set[str]) -> Any:
    """Parsed settings (or ``None``), adding the first parse/validation problem."""
    from nexios_auth_di.config import _build
    from nexios_auth_di.exceptions import ConfigurationError

    try:
        settings: Settings = _build(Settings, raw, "")
    except ConfigurationError as exc:
        problems.append(str(exc))
        return None
    try:
        settings.validate()
    except ConfigurationError as exc:
        if not any(str(exc).startswith(f"{key} ") for key in covered):
            problems.append(str(exc))
    else:
        _check_keys(settings, problems)
    for key, env in settings.dev_secrets_in_use():
        hint = f": set {env}" if env else ""
        problems.append(f"{key} is a secret published in a shipped profile{hint}")
    return settings


def _check_keys(settings: Settings, problems: list[str]) -> None:
    """Build the JWT key ring as the container would: a bad PEM or JWK fails here."""
    from nexios_auth_di.factories import build_key_ring

    if "jwt" not in settings.backends:
        return
    try:
        build_key_ring(settings)
    except (ValueError, TypeError) as exc:  # ConfigurationError is a ValueError
        problems.append(f"jwt keys: {exc}")


@click.command("check-config")
@click.argument("profile_or_path")
def check_config(profile_or_path: str) -> None:
    """Show the effective settings of a profile or YAML file (secrets masked) and list
    every problem; exit 1 if there is one."""
    from nexios_auth_di.container import AuthContainer

    path = _resolve(profile_or_path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        container = AuthContainer()
        container.config.from_yaml(path, envs_required=False)
        raw = container.config()
    except (OSError, ValueError) as exc:  # unreadable file, YAML syntax
        raise Failure(f"{path}: {exc}") from None
    absent = missing_env(text)
    problems = [f"{key}: environment variable {var} is not set" for key, var in absent]
    settings = _settings(raw, problems, {key for key, _ in absent})
    shown = dataclasses.asdict(settings) if settings is not None else raw
    rows = [(key, mask(key, value)) for key, value in _walk(shown, "")]
    width = max((len(key) for key, _ in rows), default=0)
    click.echo(f"# {path}" + ("" if settings is not None else " (raw: it does not parse)"))
    for key, value in rows:
        click.echo(f"{key.ljust(width)}  {json.dumps(value, default=str)}")
    if not problems:
        click.echo("no problems found")
        return
    click.echo(f"\n{len(problems)} problem(s):")
    for problem in problems:
        click.echo(f"  - {problem}")
    raise Failure(f"{len(problems)} problem(s) in {path}")
