"""Loggers whose lines cannot be forged: every non-printable character is escaped.

Request paths, usernames and header values reach log lines. A raw ``\\n``, ESC or
U+2028 in one of them lets a client forge a log entry or drive a terminal (CWE-117,
OWASP ASVS 16.4.1). Every logger of the library comes from ``get_logger`` and carries
``EscapingFilter``, which escapes the message and its string arguments before any
handler formats them.
"""

from __future__ import annotations

import logging
from typing import Any


def _visible(ch: str) -> str:
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every non-printable character (controls, separators such as U+2028,
    bidi and other format characters) written as a visible escape."""
    if text.isprintable():
        return text
    return "".join(map(_visible, text))


def _escaped(value: Any) -> Any:
    return escape(value) if isinstance(value, str) else value


class EscapingFilter(logging.Filter):
    """Escape the record's message and string arguments in place (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = escape(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _escaped(v) for k, v in record.args.items()}
        return True


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with ``EscapingFilter`` attached once."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, EscapingFilter) for f in logger.filters):
        logger.addFilter(EscapingFilter())
    return logger
