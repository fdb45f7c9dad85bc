"""The guide's import path: ``from nexios_auth_di.session import SessionMiddleware``."""

from nexios_auth_di.sessions import (
    Session,
    SessionMiddleware,
    csrf_token,
    end_other_sessions,
    login,
    logout,
    require_csrf,
    require_form_csrf,
    verify_csrf,
)

__all__ = [
    "Session",
    "SessionMiddleware",
    "csrf_token",
    "end_other_sessions",
    "login",
    "logout",
    "require_csrf",
    "require_form_csrf",
    "verify_csrf",
]
