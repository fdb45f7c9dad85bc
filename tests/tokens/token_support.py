"""Constants shared by the token tests (a unique module name: every folder has a conftest)."""

ISSUER = "https://issuer.test"
AUDIENCE = "api.test"
