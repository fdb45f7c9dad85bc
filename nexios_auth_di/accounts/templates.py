"""The account mails, in plain text and HTML, and how an app replaces them.

A template is three strings per kind (``subject``, ``text``, ``html``) filled with
``str.format`` fields: ``{link}``, ``{username}``, ``{minutes}``. Values put into the HTML
part are HTML-escaped (a username is user input). Override a kind by passing
``EmailTemplates({"reset": {...}})`` to ``container.email_templates.override(...)``, or
by files ``{kind}.subject``, ``{kind}.txt``, ``{kind}.html`` in ``email.templates_dir``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nexios_auth_di.exceptions import ConfigurationError

__all__ = ["DEFAULTS", "EmailTemplates", "Rendered"]

PARTS = ("subject", "text", "html")
FILES = {"subject": "subject", "text": "txt", "html": "html"}
DEFAULTS: dict[str, dict[str, str]] = {
    "reset": {
        "subject": "Reset your password",
        "text": (
            "Hello {username},\n\n"
            "Someone asked to reset the password of your account. If it was you, open this "
            "link within {minutes} minutes:\n\n{link}\n\n"
            "If it was not you, ignore this mail: your password stays as it is.\n"
        ),
        "html": (
            "<p>Hello {username},</p>"
            "<p>Someone asked to reset the password of your account. If it was you, open "
            'this link within {minutes} minutes:</p><p><a href="{link}">Reset my '
            "password</a></p><p>If it was not you, ignore this mail: your password stays "
            "as it is.</p>"
        ),
    },
    "verify": {
        "subject": "Confirm your email address",
        "text": (
            "Hello {username},\n\nConfirm that this address is yours by opening this link "
            "within {minutes} minutes:\n\n{link}\n"
        ),
        "html": (
            "<p>Hello {username},</p><p>Confirm that this address is yours by opening "
            'this link within {minutes} minutes:</p><p><a href="{link}">Confirm my '
            "address</a></p>"
        ),
    },
}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


class EmailTemplates:
    """The mails by kind; ``overrides`` replace some parts of some kinds."""

    def __init__(self, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        merged = {kind: dict(parts) for kind, parts in DEFAULTS.items()}
        for kind, parts in (overrides or {}).items():
            unknown = set(parts) - set(PARTS)
            if unknown:
                raise ConfigurationError(f"email template {kind!r}: unknown parts {unknown}")
            merged.setdefault(kind, {}).update(parts)
        for kind, parts in merged.items():
            missing = set(PARTS) - set(parts)
            if missing:
                raise ConfigurationError(f"email template {kind!r} lacks {sorted(missing)}")
        self.templates = merged

    @classmethod
    def from_dir(cls, directory: str | None) -> EmailTemplates:
        """Defaults, overridden by whichever ``{kind}.{subject,txt,html}`` files exist."""
        if directory is None:
            return cls()
        root = Path(directory)
        if not root.is_dir():
            raise ConfigurationError(f"email.templates_dir {directory!r} is not a directory")
        overrides: dict[str, dict[str, str]] = {}
        for kind in DEFAULTS:
            for part, ext in FILES.items():
                path = root / f"{kind}.{ext}"
                if path.is_file():
                    overrides.setdefault(kind, {})[part] = path.read_text("utf-8")
        return cls(overrides)

    def render(self, kind: str, **fields: str) -> Rendered:
        parts = self.templates[kind]
        escaped = {k: html.escape(v, quote=True) for k, v in fields.items()}
        return Rendered(
            subject=parts["subject"].format(**fields).strip().replace("\n", " "),
            text=parts["text"].format(**fields),
            html=parts["html"].format(**escaped),
        )
