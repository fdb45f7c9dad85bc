"""Sessions that honour every cookie setting, in a signed cookie or in a server store.

One class serves both ways of installing it:

* ``app.add_middleware(SessionMiddleware(secret_key=...))`` (the guide's form);
* ``app.wrap_asgi(SessionMiddleware, secret_key=...)`` (pure ASGI: cheaper, and store
  errors reach the app's exception handlers as 503s instead of becoming 500s).

Without a ``store`` the data is JSON signed with itsdangerous (readable by the client,
not forgeable). With a ``store`` the cookie holds only a signed random id. Either way
``max_age`` is enforced by the signature timestamp on load, and by the store's TTL.

Logout and replay: in server-side mode ``logout()`` (or ``session.clear()``) deletes
the stored session, so a replayed old cookie is anonymous. A client-side cookie cannot
be recalled; pass ``revocations`` (a ``RevocationStore``) and each cookie carries a
random id that ``logout()`` revokes until the cookie would have expired anyway.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from nexios.http.response import JSONResponse

from nexios_auth_di.exceptions import ConfigurationError, HTTPAuthError, UsageError
from nexios_auth_di.http.asgi import cookie
from nexios_auth_di.sessions.cookies import MAX_COOKIE_BYTES, CookieSpec, Session
from nexios_auth_di.sessions.csrf import MW_SCOPE_KEY, rotate_csrf_token, scope_of
from nexios_auth_di.sessions.csrf import csrf_token as csrf_token
from nexios_auth_di.sessions.csrf import require_csrf as require_csrf
from nexios_auth_di.sessions.csrf import verify_csrf as verify_csrf
from nexios_auth_di.stores.protocols import RevocationStore, SessionStore

__all__ = [
    "Session",
    "SessionMiddleware",
    "csrf_token",
    "end_other_sessions",
    "login",
    "logout",
    "require_csrf",
    "verify_csrf",
]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Secret = str | bytes
LOGIN_TIME_KEY = "_auth_time"
#: the credential generation the login was issued under (``RevocationStore``): once the
#: subject's generation moves on (password change, logout-all), the session is refused
GENERATION_KEY = "_auth_gen"


class SessionMiddleware:
    """Load ``scope["session"]`` before the route and persist it as the response starts."""

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        secret_key: Secret | Iterable[Secret],
        max_age: int = 3600,
        secure: bool = True,
        httponly: bool = True,
        samesite: str | None = "lax",  # the same default as install(); see docs/guide.md
        cookie_name: str = "session",
        path: str = "/",
        domain: str | None = None,
        host_prefix: bool = False,
        store: SessionStore | None = None,
        salt: str = "nexios_auth_di.session",
        rolling: bool = False,
        user_key: str = "user_id",
        csrf_header: str = "X-CSRF-Token",
        absolute_max_age: int | None = None,
        revocations: RevocationStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        keys = [secret_key] if isinstance(secret_key, str | bytes) else list(secret_key)
        raw = [k.encode() if isinstance(k, str) else k for k in keys]
        if not raw or any(not isinstance(k, bytes) or len(k) < 32 for k in raw):
            raise ConfigurationError("session secret keys must be at least 32 bytes")
        if absolute_max_age is not None and absolute_max_age < max_age:
            raise ConfigurationError("absolute_max_age must be >= max_age")
        self.cookie = CookieSpec.build(
            cookie_name=cookie_name, max_age=max_age, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite, host_prefix=host_prefix,
        )  # fmt: skip
        self.max_age, self.store, self.rolling = max_age, store, rolling
        self.user_key, self.csrf_header = user_key, csrf_header
        self.absolute_max_age, self.revocations, self.clock = absolute_max_age, revocations, clock

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        # itsdangerous signs with the *last* key; ours signs with the first (newest).
        signing = list(reversed(raw))
        mode = "server" if store is not None else "client"
        # HMAC-SHA-256: itsdangerous's default SHA-1 is legacy in ASVS 5.0 Appendix C
        self._serializer = URLSafeTimedSerializer(
            signing,
            salt=f"{salt}.{mode}",
            signer=_Signer,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    # -- the two call shapes -------------------------------------------------------
    async def __call__(self, first: Any, second: Any, third: Any) -> Any:
        if isinstance(first, dict):
            return await self._asgi(first, second, third)
        return await self._bridge(first, second, third)

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.app is None:
            raise ConfigurationError("use app.wrap_asgi(SessionMiddleware, ...) for ASGI form")
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await self._begin(scope)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                header = await self.commit(scope)
                if header is not None:
                    headers = [*message.get("headers", ()), (b"set-cookie", header)]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _bridge(self, request: Any, response: Any, call_next: Any) -> Any:
        # Nexios turns exceptions raised here into 500s, so store outages are answered
        # here, as the pure-ASGI form's exception handlers would (503, fail closed).
        scope = request.scope
        try:
            await self._begin(scope)
            result = await call_next()
            header = await self.commit(scope)
        except HTTPAuthError as exc:
            return JSONResponse(exc.body(), exc.status_code, dict(exc.headers or {}))
        if header is not None:
            result.raw_headers = [*result.raw_headers, (b"set-cookie", header)]
        return result

    # -- load ----------------------------------------------------------------------
    async def _begin(self, scope: dict[str, Any]) -> None:
        scope[MW_SCOPE_KEY] = self
        raw = cookie(scope, self.cookie.name)
        session = await self.load(raw) if raw else None
        if session is None:
            session = Session()
        session.had_cookie = raw is not None
        scope["session"] = session

    async def load(self, raw: str) -> Session | None:
        """The session a cookie value stands for, or ``None`` if it is not valid now."""
        try:
            payload = self._serializer.loads(raw, max_age=self.max_age)
        except (BadData, ValueError, TypeError, UnicodeError):
            return None
        if self.store is not None:
            if not isinstance(payload, str):
                return None
            stored = await self.store.load(payload)
            session = None if stored is None else self._session_from(stored, payload)
        elif isinstance(payload, dict):
            session = self._session_from(payload, payload.get("i"))
        else:
            return None
        if session is None or self.revocations is None or not session.session_id:
            return session
        # one lookup, as for a token: the id (client-side logout) and the generation (or,
        # for a session without one, its creation time); a server-side session without
        # a generation is ended by deleting it, so it needs no lookup
        generation = session.get(GENERATION_KEY)
        if isinstance(generation, int | float) and not isinstance(generation, bool):
            stamp = float(generation)
        elif self.store is not None:
            return session
        else:
            stamp = session.created
        refused = await self.revocations.is_refused(
            session.session_id, session.subject or "", stamp
        )
        return None if refused else session

    def _session_from(self, blob: Any, session_id: Any) -> Session | None:
        data, subject, created = blob.get("d"), blob.get("s"), blob.get("c", 0.0)
        if not isinstance(data, dict) or not isinstance(created, int | float):
            return None
        if self.absolute_max_age is not None and self.clock() - created > self.absolute_max_age:
            return None
        session = Session(
            data,
            session_id=session_id if isinstance(session_id, str) else None,
            subject=subject if isinstance(subject, str) else None,
            created=float(created),
        )
        session.loaded_user = data.get(self.user_key)
        return session

    # -- save ----------------------------------------------------------------------
    async def commit(self, scope: MutableMapping[str, Any]) -> bytes | None:
        """Persist the request's session; return the ``Set-Cookie`` value, if any."""
        session = scope.get("session")
        if not isinstance(session, Session):
            return None
        if not session:
            if session.modified:
                await self.forget(session)  # the guide's session.clear() logs out too
            if session.had_cookie and (session.modified or session.loaded_id is None):
                return self.cookie.deletion()  # emptied, or stale/invalid: drop it
            return None
        if not (session.modified or self.rolling):
            return None
        self._rotate_if_identity_changed(session)
        if session.session_id is None:
            session.session_id = new_session_id()
            session.created = self.clock()
        blob: dict[str, Any] = {"d": dict(session), "s": session.subject, "c": session.created}
        if self.store is not None:
            # conditional: a session ended since it was loaded (logout, logout-all, password
            # change, rotation by another request) is never written back; the cookie goes
            saved = await self.store.save(
                session.session_id,
                blob,
                self.max_age,
                session.subject,
                previous=session.loaded_id,
            )
            if not saved:
                session.loaded_id = None
                return self.cookie.deletion()
            value = self._serializer.dumps(session.session_id)
        else:
            value = self._serializer.dumps({**blob, "i": session.session_id})
        if len(value) + len(self.cookie.name) + 1 > MAX_COOKIE_BYTES:
            raise ConfigurationError("session data exceeds 4 KiB; use a server-side store")
        session.loaded_id = session.session_id
        return self.cookie.header(value, self.clock())

    async def is_alive(self, session: Session) -> bool:
        """Whether the session a long-lived connection was opened with still stands:
        not deleted (logout, logout-all, password change) nor revoked since it loaded."""
        sid = session.loaded_id
        if sid is None:
            return False
        if self.store is not None and await self.store.load(sid) is None:
            return False
        if self.revocations is None:
            return True
        generation = session.get(GENERATION_KEY)  # the same checks as ``load``
        if isinstance(generation, int | float) and not isinstance(generation, bool):
            stamp = float(generation)
        elif self.store is not None:
            return True
        else:
            stamp = session.created
        return not await self.revocations.is_refused(sid, session.subject or "", stamp)

    async def forget(self, session: Session) -> None:
        """Make the id the request came with unusable: delete it from the store, or
        revoke it (client-side mode with ``revocations``) until it would expire."""
        if session.loaded_id is None:
            return
        if self.store is not None:
            await self.store.delete(session.loaded_id)
        elif self.revocations is not None:
            ttl = self.absolute_max_age or self.max_age
            await self.revocations.revoke_jti(session.loaded_id, self.clock() + ttl)
        session.loaded_id = None

    def _rotate_if_identity_changed(self, session: Session) -> None:
        """Writing a new user id (the guide's ``request.session["user_id"] = ...``) gets a
        new session id too, so a session id planted before login is useless after it."""
        if session.loaded_id is None or session.session_id != session.loaded_id:
            return
        if session.get(self.user_key) != session.loaded_user:
            session.session_id = new_session_id()


def new_session_id() -> str:
    """256 bits from the OS CSPRNG (ASVS V7.2: at least 128 bits of entropy)."""
    return secrets.token_urlsafe(32)


def _parts(request_or_scope: Any) -> tuple[SessionMiddleware, Session]:
    scope = scope_of(request_or_scope)
    mw, session = scope.get(MW_SCOPE_KEY), scope.get("session")
    if not isinstance(mw, SessionMiddleware) or not isinstance(session, Session):
        raise UsageError("SessionMiddleware must run in front of this route")
    return mw, session


async def login(
    request_or_scope: Any,
    user_id: Any,
    *,
    subject: str | None = None,
    keep_data: bool = False,
    user_key: str | None = None,
    generation: float | None = None,
) -> Session:
    """Start an authenticated session under a **new** id (session-fixation defence).

    The old server-side session is deleted (or its client-side id revoked); its data is
    dropped unless ``keep_data``. Stores the user id, a fresh CSRF token and the login
    time. ``subject`` (default ``str(user_id)``) indexes the session for
    ``end_other_sessions``. ``generation`` (read before the password was checked, see
    ``TokenService.current_generation``) binds the session to it: once the subject's
    generation moves on, the session is refused (needs ``revocations``).
    """
    mw, session = _parts(request_or_scope)
    await mw.forget(session)
    if not keep_data:
        session.clear()
    session.session_id = new_session_id()
    session.created = mw.clock()
    session.subject = subject if subject is not None else str(user_id)
    session[user_key or mw.user_key] = user_id
    session[LOGIN_TIME_KEY] = session.created
    if generation is None:
        session.pop(GENERATION_KEY, None)
    else:
        session[GENERATION_KEY] = float(generation)
    rotate_csrf_token(session)
    return session


async def logout(request_or_scope: Any) -> None:
    """End the session: server-side data deleted, cookie cleared (see module notes)."""
    mw, session = _parts(request_or_scope)
    await mw.forget(session)
    session.clear()
    session.session_id = session.subject = None


async def end_other_sessions(
    request_or_scope: Any, subject: str, *, generation: float | None = None
) -> int:
    """Delete every other server-side session of ``subject`` (after a password change).

    Client-side mode needs ``revocations``: every cookie of the subject issued before
    now is refused and the current one is re-issued; returns -1 there (the count is
    unknown). A cookie issued at the very same clock reading survives. Pass the
    ``generation`` a ``TokenService.revoke_all`` just returned: it already refuses every
    older cookie, so the subject's mark is left there (moving it would also refuse the
    tokens issued under that generation) and the current session is stamped with it.
    """
    mw, session = _parts(request_or_scope)
    if mw.store is not None:
        if session.session_id is None and session:
            session.session_id = new_session_id()
        return await mw.store.delete_for_subject(subject, keep=session.session_id)
    if mw.revocations is None:
        raise ConfigurationError("end_other_sessions needs a store or revocations")
    now = mw.clock()
    if generation is None:
        await mw.revocations.revoke_subject(subject, now, mw.absolute_max_age or mw.max_age)
    if session and session.subject == subject:
        session.created = now
        if generation is not None:
            session[GENERATION_KEY] = float(generation)
        elif GENERATION_KEY in session:
            session[GENERATION_KEY] = await mw.revocations.current_generation(subject)
        session.modified = True
    return -1
