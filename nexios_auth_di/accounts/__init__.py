"""Account lifecycle: email senders and templates, signed purpose-bound tokens, email
verification, password reset and the device list (docs/accounts.md)."""
