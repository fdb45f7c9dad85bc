"""nexios_auth_di: DI-based authentication for Nexios."""
