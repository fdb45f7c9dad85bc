"""The ready-made auth router: register, login, logout, refresh, password, API keys."""

from nexios_auth_di.routes.handlers import LoginMode, auth_router

__all__ = ["LoginMode", "auth_router"]
