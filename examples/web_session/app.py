r"""A server-rendered site on sessions: login form, a protected page, logout, and "log
out my other devices", with no JavaScript at all.

Serve it::

    .venv/bin/nox -s web           # http://localhost:8001 (SQLite, nothing to install)

Create a user (the JSON route, or ``nexios-auth user create``), then open
http://localhost:8001 in a browser: you are sent to the login page and back::

    curl -s -XPOST localhost:8001/auth/register -H 'Content-Type: application/json' \
         -d '{"username":"ada","password":"correct horse"}'

What the library does here: ``session.login_url: /login`` makes every guard send an
anonymous *browser* to ``/login?next=...`` (a JSON client still gets 401); the forms post
to the ready-made ``/auth/form/*`` routes (routes/forms.py), which check the session's
CSRF token from a hidden field and answer 303; the session cookie is HttpOnly, Secure
and SameSite=Lax (http://localhost counts as secure to browsers). The app's own form
(``/notes``) checks the same token with ``require_form_csrf``.
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path
from typing import Any

from dependency_injector import providers
from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import AuthContainer, current_user, install, optional_user
from nexios_auth_di.config import profile_path
from nexios_auth_di.dependencies import require_user
from nexios_auth_di.http.compat import silence_dependency_print
from nexios_auth_di.http.redirects import safe_next
from nexios_auth_di.routes import auth_router
from nexios_auth_di.routes.bodies import read_form
from nexios_auth_di.session import csrf_token, require_form_csrf
from nexios_auth_di.users import SqliteUserRepository, user_loader_for

#: a page that shows who is signed in must never be kept by a cache or the Back button
PAGE_HEADERS = {"Cache-Control": "no-store", "Vary": "Cookie"}
NO_STORE = {"Cache-Control": "no-store"}
MAX_NOTE_CHARS = 500
#: one message whether the account exists or not (no user enumeration, OWASP ASVS 2.2)
MESSAGES = {
    "invalid": "Invalid username or password.",
    "throttled": "Too many attempts. Wait a minute and try again.",
    "mfa_required": "This account uses two-factor sign-in: use the API login.",
    "unverified": "Confirm your email address first: we sent you a new link.",
    "signed_out": "You are signed out.",
}

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "input,button{font:inherit;padding:.4rem;margin:.2rem 0}"
    ".error{color:#a00}.box{border:1px solid #ccc;padding:1rem;border-radius:.5rem}"
)


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'


def login_page(token: str, next_url: str, error: str | None) -> str:
    message = MESSAGES.get(error or "")
    notice = f'<p class="error" id="error">{html.escape(message)}</p>' if message else ""
    return page(
        "Sign in",
        notice + '<form class="box" method="post" action="/auth/form/login">'
        f"{hidden('csrf_token', token)}{hidden('next', next_url)}"
        '<label>Username<br><input name="username" id="username" autocomplete="username" '
        "required></label><br>"
        '<label>Password<br><input name="password" id="password" type="password" '
        'autocomplete="current-password" required></label><br>'
        '<button id="sign-in">Sign in</button></form>',
    )


def home_page(user: Any, token: str, notes: list[str]) -> str:
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes) or "<li>(none yet)</li>"
    return page(
        "Your notes",
        f'<p id="whoami">Signed in as <b>{html.escape(user.username)}</b></p>'
        f'<ul id="notes">{items}</ul>'
        f'<form method="post" action="/notes">{hidden("csrf_token", token)}'
        f'<input name="text" id="note" maxlength="{MAX_NOTE_CHARS}" required>'
        '<button id="add">Add</button></form>'
        f'<form method="post" action="/auth/form/logout-others">{hidden("csrf_token", token)}'
        f"{hidden('next', '/')}"
        '<button id="logout-others">Log out my other devices</button></form>'
        f'<form method="post" action="/auth/form/logout">{hidden("csrf_token", token)}'
        '<button id="logout">Log out</button></form>',
    )


def create_app(profile: str = "development", data_dir: str | None = None) -> NexiosApp:
    """The site on a shipped profile, its SQLite files in ``data_dir`` (default: here)."""
    silence_dependency_print()
    folder = Path(data_dir or os.environ.get("EXAMPLE_DATA_DIR", "."))
    container = AuthContainer()
    container.config.from_yaml(profile_path(profile))
    container.config.backends.from_value(["session"])
    container.config.session.login_url.from_value("/login")
    container.config.routes.login_mode.from_value("session")
    container.config.store.sqlite_path.from_value(str(folder / "web_auth.sqlite3"))
    users_file = folder / "web_users.sqlite3"
    if not users_file.exists():
        port = os.environ.get("PORT", "8001")
        print(f"web_session serving on http://localhost:{port}", file=sys.stderr, flush=True)
    users = SqliteUserRepository(str(users_file))
    container.user_repository.override(providers.Object(users))
    container.user_loader.override(providers.Object(user_loader_for(users)))
    notes: dict[str, list[str]] = {}  # app data, not auth state: kept simple

    app = NexiosApp(title="nexios_auth_di web example", debug=False)

    @app.get("/login")
    async def login_form(request: Any, response: Any, user: Any = Depend(optional_user)) -> Any:
        next_url = safe_next(request.query_params.get("next"))
        if user is not None:  # already signed in: go on
            return response.redirect(next_url, status_code=303, headers=dict(NO_STORE))
        error = request.query_params.get("error")
        # csrf_token() starts an anonymous session: the form's token (login CSRF)
        body = login_page(csrf_token(request), next_url, error)
        return response.html(body, headers=PAGE_HEADERS)

    @app.get("/")
    async def home(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        body = home_page(user, csrf_token(request), notes.get(str(user.id), []))
        return response.html(body, headers=PAGE_HEADERS)

    @app.post("/notes")
    async def add_note(request: Any, response: Any) -> Any:
        form = await read_form(request)
        require_form_csrf(request.scope, form)  # before the user is read (403 otherwise)
        user = await require_user(request)  # the 401: an unsafe method is never redirected
        text = form.get("text", "").strip()[:MAX_NOTE_CHARS]
        if text:
            notes.setdefault(str(user.id), []).append(text)
        return response.redirect("/", status_code=303, headers=dict(NO_STORE))

    app.mount_router(auth_router(container))
    install(app, container)
    return app
