"""TOTP two-factor, recovery codes, the mfa_token and step-up (``fresh_required``)."""
