"""Passkeys (WebAuthn) on py_webauthn: the ``passkeys`` extra. Routes: ``routes/passkeys.py``;
guide: ``docs/passkeys.md``."""
