"""Sessions: signed or server-side cookies, login/logout helpers, and CSRF tokens."""

from nexios_auth_di.sessions.cookies import Session
from nexios_auth_di.sessions.csrf import csrf_token, require_csrf, require_form_csrf, verify_csrf
from nexios_auth_di.sessions.middleware import (
    SessionMiddleware,
    end_other_sessions,
    login,
    logout,
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
