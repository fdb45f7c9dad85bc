"""HTML form posts for server-rendered apps (a ``FLOWS`` module; docs/web.md).

A plain ``<form method="post">`` cannot send the ``X-CSRF-Token`` header the JSON routes
want, nor read a JSON answer, so these routes take ``application/x-www-form-urlencoded``
with the session's synchronizer token in a ``csrf_token`` field, and answer **303** (a
browser then GETs the target). Registered in session login mode (``session`` or
``both``) when ``session.login_url`` is set; ``GET`` of that page is the app's own:

- ``POST /auth/form/login`` (``username``, ``password``, ``csrf_token``, ``next``): the
  same throttled, audited password check as ``/auth/login``, then 303 to ``next``
  (``http.redirects.safe_next``) with a fresh session; a wrong password *or* an unknown
  account is 303 to ``login_url?error=invalid`` (one message: nothing tells them apart),
  throttling is ``error=throttled``, a user with TOTP is ``error=mfa_required`` (the
  code step is the JSON ``/auth/login/mfa``).
- ``POST /auth/form/logout`` (``csrf_token``): this session ends; 303 to ``login_url``.
- ``POST /auth/form/logout-others`` (``csrf_token``, ``next``): every other session,
  token and device of the user ends, this one is kept; 303 to ``next``.

The login form needs the token before anyone is signed in (login CSRF: a hostile page
must not sign a victim's browser into the attacker's account), so the page that renders
the form calls ``csrf_token(request)``, which starts an anonymous session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nexios_auth_di.accounts import devices
from nexios_auth_di.dependencies import resolve_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import (
    AuthenticationFailed,
    BadRequest,
    PermissionDenied,
    Throttled,
)
from nexios_auth_di.http.redirects import safe_next
from nexios_auth_di.logs import get_logger
from nexios_auth_di.routes.bodies import MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS, read_form
from nexios_auth_di.routes.support import NO_STORE, caller_ip, emit, session_user, subject_of
from nexios_auth_di.sessions.csrf import require_form_csrf
from nexios_auth_di.sessions.middleware import end_other_sessions
from nexios_auth_di.sessions.middleware import login as session_login
from nexios_auth_di.sessions.middleware import logout as session_logout

if TYPE_CHECKING:
    from nexios_auth_di.routes.handlers import AuthRoutes, RouteRow

__all__ = ["routes"]

logger = get_logger("nexios_auth_di.forms")


def _field(form: dict[str, str], name: str, limit: int) -> str:
    value = form.get(name, "")
    if len(value) > limit:
        raise BadRequest(f"{name} is too long.", reason="form_field_too_long")
    return value


class _Landing:
    """The response ``complete_login`` answers on: its JSON becomes a 303 (to ``next``
    on success, back to the form when a second factor is due)."""

    def __init__(self, response: Any, target: str, mfa_target: str) -> None:
        self._response, self._target, self._mfa = response, target, mfa_target

    def json(self, payload: Any, **_: Any) -> Any:
        where = self._mfa if "mfa_token" in payload else self._target
        return self._response.redirect(where, status_code=303, headers=dict(NO_STORE))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)


def routes(h: AuthRoutes) -> list[RouteRow]:
    c = h.container
    login_url = c.settings().session.login_url
    if h.mode not in ("session", "both") or not login_url:
        return []
    joiner = "&" if "?" in login_url else "?"

    def back_to_form(error: str, next_url: str) -> str:
        return f"{login_url}{joiner}error={error}&next={quote(next_url, safe='')}"

    def see_other(response: Any, where: str, **headers: str) -> Any:
        return response.redirect(where, status_code=303, headers={**NO_STORE, **headers})

    async def form_login(request: Any, response: Any) -> Any:
        form = await read_form(request, limit=h.limit)
        require_form_csrf(request.scope, form)
        next_url = safe_next(form.get("next"))
        username = _field(form, "username", MAX_USERNAME_CHARS)
        password = _field(form, "password", MAX_PASSWORD_BYTES)
        if not username or not password or len(password.encode()) > MAX_PASSWORD_BYTES:
            return see_other(response, back_to_form("invalid", next_url))
        try:
            record, generation = await h.check_password(request, username, password)
        except Throttled as exc:
            return see_other(response, back_to_form("throttled", next_url), **(exc.headers or {}))
        except PermissionDenied:  # the right password, address not verified (a link was sent)
            return see_other(response, back_to_form("unverified", next_url))
        except AuthenticationFailed:  # unknown account or wrong password: one answer
            return see_other(response, back_to_form("invalid", next_url))
        landing = _Landing(response, next_url, back_to_form("mfa_required", next_url))
        # a browser gets the session only: tokens in a body it never reads would be
        # live credentials (and device records) that nobody holds
        return await h.complete_login(
            request, landing, record, generation, method="form", mode="session"
        )

    async def form_logout(request: Any, response: Any) -> Any:
        form = await read_form(request, limit=h.limit)
        require_form_csrf(request.scope, form)
        user = await resolve_user(request, response)
        scope = request.scope
        subject = session_user(c, scope)
        if subject is not None and subject == subject_of(user):
            await devices.forget_current(c, scope, subject)
            await emit(c, EventKind.LOGOUT, subject, caller_ip(c, scope), auth="session")
        await session_logout(request)
        return see_other(response, login_url)

    async def form_logout_others(request: Any, response: Any) -> Any:
        form = await read_form(request, limit=h.limit)
        require_form_csrf(request.scope, form)
        next_url = safe_next(form.get("next"))
        user = await resolve_user(request, response)
        scope = request.scope
        subject = session_user(c, scope)
        if subject is None or subject != subject_of(user):  # a session of this browser only
            return see_other(response, back_to_form("signed_out", next_url))
        generation = await c.token_service().revoke_all(subject)  # tokens of every device
        await devices.forget_devices(c, subject)
        # this browser stays in under the new generation and a new session id
        await session_login(
            request, subject, subject=subject, keep_data=True, generation=generation
        )
        ended = await end_other_sessions(request, subject, generation=generation)
        await emit(c, EventKind.LOGOUT_ALL, subject, caller_ip(c, scope), kept="this_session")
        await devices.record_login(c, request, subject, {}, "session")  # this one, again
        logger.info("form logout-others: %s other session(s) ended", max(ended, 0))
        return see_other(response, next_url)

    return [
        ("/form/login", "POST", form_login),
        ("/form/logout", "POST", form_logout),
        ("/form/logout-others", "POST", form_logout_others),
    ]
