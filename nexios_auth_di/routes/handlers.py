"""Ready-made auth routes: register, login, logout, refresh, password, API keys.

Mount with ``app.mount_router(auth_router(container))`` next to ``install(app, container)``.
Every service is fetched from the container *per request*, so provider overrides (a test
sink, a stub throttle) apply without rebuilding the router. Users are reached only through
``container.user_repository`` (see ``users.py``), so the routes work over any database.

Security choices: login answers an unknown user and a wrong password with the same 401
after the same argon2 work (``dummy_verify``); every password check first *reserves* an
attempt with the throttle (atomic count-then-verify, so a parallel burst gets at most the
limit evaluated), before the user is looked up, so a 429 says nothing about the account;
credential-carrying responses are ``no-store``; account routes refuse API-key callers (a
leaked key cannot mint keys or change the password).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable
from typing import Any, Literal

from nexios import Depend
from nexios.routing import Router

# modules, not names: they import routes.support, which may be loading this one
from nexios_auth_di.accounts import devices, identify, verification
from nexios_auth_di.apikeys.service import public_view
from nexios_auth_di.base import user_has_permission
from nexios_auth_di.dependencies import current_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import (
    AuthenticationFailed,
    BadRequest,
    ConfigurationError,
    Conflict,
    Overloaded,
    PermissionDenied,
    Throttled,
    TokenError,
    TokenReused,
    TokenRevoked,
)
from nexios_auth_di.routes.bodies import (
    DEFAULT_BODY_LIMIT,
    MAX_USERNAME_CHARS,
    optional_bool,
    optional_number,
    optional_str,
    optional_str_list,
    read_json_object,
    require_password,
    require_str,
    require_username,
)
from nexios_auth_di.routes.schemas import docs_for
from nexios_auth_di.routes.support import (
    NO_STORE,
    SafeRoute,
    bearer_token,
    caller_ip,
    emit,
    logged_username,
    refuse_api_key,
    session_user,
    sessions_active,
    subject_of,
    token_pair,
)
from nexios_auth_di.routes.token_transport import (
    body_and_cookies,
    clearing_cookies,
    refresh_from_cookie,
    send,
)
from nexios_auth_di.sessions.middleware import csrf_token, end_other_sessions
from nexios_auth_di.sessions.middleware import login as session_login
from nexios_auth_di.sessions.middleware import logout as session_logout
from nexios_auth_di.throttle.login import Attempt
from nexios_auth_di.usernames import enforce_username

__all__ = ["FLOWS", "AuthRoutes", "LoginMode", "RouteRow", "auth_router"]

LoginMode = Literal["tokens", "session", "both"]
MODES = ("tokens", "session", "both")
MAX_TOKEN_CHARS = 8192
CREDENTIALS = frozenset({"username", "password"})
INVALID_LOGIN = "Invalid username or password."
#: ``(path, method, handler)`` of one route under the router's prefix
RouteRow = tuple[str, str, Any]
#: Modules of this package, each with ``routes(h: AuthRoutes) -> list[RouteRow]``: one
#: flow each (account lifecycle, MFA, OIDC, passkeys...), mounted after the core routes.
FLOWS: tuple[str, ...] = (
    "oauth_token", "accounts", "devices", "mfa", "oidc", "passkeys", "forms",
)  # fmt: skip


class AuthRoutes:
    """The handlers, bound to one container. ``auth_router`` mounts them."""

    def __init__(self, container: Any, login_mode: str, body_limit: int) -> None:
        self.container = container
        self.mode = login_mode
        self.limit = body_limit

    async def _body(self, request: Any, fields: set[str], *, optional: bool = False) -> Any:
        return await read_json_object(
            request, frozenset(fields), limit=self.limit, optional=optional
        )

    async def _reserve(self, reservation: Awaitable[Attempt], ip: str, **detail: str) -> Attempt:
        """Await a throttle reservation; a refusal (429) is audited, then raised."""
        try:
            return await reservation
        except Throttled:
            await emit(self.container, EventKind.THROTTLED, None, ip, **detail)
            raise

    async def _confirm_password(self, record: Any, password: str, ip: str, route: str) -> None:
        """Re-check a signed-in user's password (a stolen token or session must not guess
        freely): reserved on the login throttle before argon2, like a login; a wrong one
        is 403, a right one clears the account's failures."""
        throttle = self.container.login_throttle()
        reservation = throttle.reserve(record.username, ip)
        attempt = await self._reserve(reservation, ip, username=record.username, route=route)
        try:
            right = await self.container.password_service().verify(record.password_hash, password)
        except Overloaded:
            await throttle.release(attempt)  # shed before argon2 ran: not a guess
            raise
        if not right:  # the failure is already counted
            raise PermissionDenied("Current password is incorrect.", reason="wrong_password")
        await throttle.succeeded(attempt)

    async def _check_login(self, username: str, password: str) -> tuple[Any, bool, str, float]:
        """``(record, ok, why, generation)``: the same argon2 work whether or not the user
        exists. The credential generation is read *before* the password check, so a
        password change or logout-all landing during argon2 fails the issue."""
        users, passwords = self.container.user_repository(), self.container.password_service()
        record = await identify.find_account(users, username)  # a username or an address
        if record is None:
            await passwords.dummy_verify(password)  # same work as a wrong password
            return None, False, "unknown_user", 0.0
        if not record.is_active:
            await passwords.verify(record.password_hash, password)
            return record, False, "inactive", 0.0
        generation = await self.container.revocation_store().current_generation(record.id)

        async def save(new_hash: str) -> None:
            await users.set_password_hash(record.id, new_hash)

        ok = await passwords.verify_and_update(record.password_hash, password, save)
        return record, ok, "bad_password", generation

    # -- register / login ----------------------------------------------------------
    async def register(self, request: Any, response: Any) -> Any:
        body = await self._body(request, set(CREDENTIALS) | {"email"})
        c = self.container
        raw_email = optional_str(body, "email", max_chars=identify.MAX_EMAIL_CHARS)
        email = None if raw_email is None else identify.normalize_email(raw_email)
        raw_name = require_str(body, "username", max_chars=MAX_USERNAME_CHARS)
        username = enforce_username(raw_name, c.settings().usernames)  # stored form (NFKC)
        identify.check_username_address(username, email)
        password = require_password(body, "password")
        passwords, users = c.password_service(), c.user_repository()
        passwords.validate(password)
        # counted per IP before the lookup (409 probes enumerate names) and before any
        # hashing; a shed (503) registration keeps its count: the IP asked for the work
        ip = caller_ip(c, request.scope)
        await self._reserve(c.login_throttle().reserve_registration(ip), ip, route="register")
        await passwords.check_breached(password)
        if await users.get_by_username(username) is not None:
            raise Conflict("Username is not available", reason="username_taken")
        if email is None:
            record = await users.create(username, await passwords.hash(password))
        else:  # a taken address: the same 409 shape as a taken name (docs/accounts.md)
            taken = not identify.supports_email(users) or await users.get_by_email(email)
            if taken or await identify.address_is_a_username(users, email):
                raise Conflict("Email is not available", reason="email_taken")
            record = await users.create(username, await passwords.hash(password), email=email)
            await verification.send_verification(c, record, ip)
        await emit(c, EventKind.REGISTERED, record.id, ip)
        answer = {"id": record.id, "username": record.username}
        if email is not None:
            answer |= {"email": email, "email_verified": False}
        return response.json(answer, status_code=201)

    async def login(self, request: Any, response: Any) -> Any:
        body = await self._body(request, set(CREDENTIALS))
        username, password = require_username(body), require_password(body, "password")
        record, generation = await self.check_password(request, username, password)
        return await self.complete_login(request, response, record, generation, method="password")

    async def check_password(self, request: Any, username: str, password: str) -> Any:
        """``(record, generation)`` for a right password, else ``AuthenticationFailed``:
        throttled (reserved before argon2), audited, the same work for unknown users. The
        one password check of every way to log in with a password (JSON, OAuth2 form)."""
        c = self.container
        ip = caller_ip(c, request.scope)
        throttle = c.login_throttle()
        # counted under the account's username when the name or address resolves, so
        # alternating the two forms does not double the guesses (accounts/identify.py)
        known = await identify.find_account(c.user_repository(), username)
        # counted before argon2 runs, so a burst gets at most the limit evaluated
        # a source this account signed in from before skips the account-wide counter, so
        # a distributed flood does not lock the owner out where they log in (devices.py)
        trusted = await devices.known_source(c, None if known is None else known.id, ip)
        name = username if known is None else known.username
        reservation = throttle.reserve(name, ip, known_source=trusted)
        logged = logged_username(c, username)  # before the lookup: hashed
        attempt = await self._reserve(reservation, ip, username=logged, route="login")
        try:
            record, ok, why, generation = await self._check_login(username, password)
        except Overloaded:
            await throttle.release(attempt)  # shed before argon2 ran: not a guess
            raise
        if not ok or record is None:  # the failure is already counted
            subject = None if record is None else record.id
            name = logged_username(c, username, record)  # never a mistyped password
            await emit(c, EventKind.LOGIN_FAILED, subject, ip, username=name, reason=why)
            raise AuthenticationFailed(INVALID_LOGIN, reason=f"login_{why}")
        await throttle.succeeded(attempt)
        if c.settings().accounts.require_verified_email and not record.email_verified:
            await verification.resend_on_login(c, record, ip)  # a fresh link
            await emit(c, EventKind.LOGIN_FAILED, record.id, ip, reason="email_not_verified")
            raise EmailNotVerified()  # only after the right password: tells a guesser nothing
        return record, generation

    async def second_factor_required(self, record: Any) -> bool:
        """Whether ``record`` must pass a second factor before credentials are issued
        (routes that cannot run that step, such as the OAuth2 form, refuse such users):
        enrolled in TOTP (``mfa/totp.py``). No pyotp import: works without the extra."""
        return await self.container.credential_store().get("totp", record.id) is not None

    async def require_fresh_if_enrolled(self, record: Any, scope: Any) -> None:
        """The body's password suffices alone; once a second factor is enrolled the login
        must also be fresh, so a phished password plus a stolen token cannot mint a key or
        move the recovery address without the code (``fresh_required``)."""
        if await self.second_factor_required(record):
            from nexios_auth_di.mfa.stepup import ensure_fresh

            ensure_fresh(self.container, scope)

    async def complete_login(
        self,
        request: Any,
        response: Any,
        record: Any,
        generation: float,
        *,
        method: str,
        skip_second_factor: bool = False,
        mode: str | None = None,
    ) -> Any:
        """Every way in (password, OIDC, passkey) ends here once its first factor passed:
        an enrolled user gets an ``mfa_token`` instead of credentials (``routes/mfa.py``)
        unless ``skip_second_factor`` (a user-verified passkey is two factors already).
        ``generation`` is the user's credential generation read before the first factor;
        ``mode`` narrows the configured login mode (an HTML form wants the session only)."""
        if not skip_second_factor and await self.second_factor_required(record):
            from nexios_auth_di.routes.mfa import second_factor

            return await second_factor(self, request, response, record, generation, method)
        return await self.issue_login(
            request, response, record, generation, method=method, mode=mode
        )

    async def issue_login(
        self,
        request: Any,
        response: Any,
        record: Any,
        generation: float,
        *,
        method: str,
        mode: str | None = None,
    ) -> Any:
        """Credentials in the configured login mode (tokens, session or both), or ``mode``."""
        c = self.container
        ip = caller_ip(c, request.scope)
        mode = mode or self.mode
        payload: dict[str, Any] = {}
        if mode in ("tokens", "both"):
            payload |= await token_pair(c.token_service(), record.id, generation)
        if mode in ("session", "both"):
            if not sessions_active(request.scope):
                raise ConfigurationError("session login needs SessionMiddleware in front")
            await session_login(request, record.id, subject=record.id, generation=generation)
            payload["csrf_token"] = csrf_token(request)
            # the token path compares on issue; the session compares here, before saving
            if await c.revocation_store().current_generation(record.id) != generation:
                await session_logout(request)
                raise TokenRevoked("stale_generation")
        # audited once issued: a login refused for a stale generation never "succeeded"
        await emit(c, EventKind.LOGIN_SUCCEEDED, record.id, ip, mode=mode, method=method)
        await devices.record_login(c, request, record.id, payload, method)
        body, cookies = body_and_cookies(c, payload)
        return send(response, body, cookies, headers=NO_STORE)

    # -- logout ---------------------------------------------------------------------
    async def logout(self, request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        body = await self._body(request, {"refresh_token"}, optional=True)
        refresh = optional_str(body, "refresh_token", max_chars=MAX_TOKEN_CHARS)
        c, scope, subject = self.container, request.scope, subject_of(user)
        tokens = c.token_service()
        if refresh is not None:
            try:
                claims = tokens.verifier.verify(refresh, "refresh")
            except TokenError:
                claims = None  # already unusable: nothing to revoke
            if claims is not None and claims.get("sub") != subject:
                raise PermissionDenied("That refresh token belongs to another account.")
            if claims is not None:
                await tokens.revoke(refresh)
        await devices.forget_current(c, scope, subject)
        access = bearer_token(c, scope)
        if access is not None:
            await tokens.revoke(access)
        if session_user(c, scope) == subject:
            await session_logout(request)
        await emit(c, EventKind.LOGOUT, subject, caller_ip(c, scope), auth=scope.get("auth"))
        return _empty(response, clearing_cookies(c))

    async def logout_all(
        self,
        request: Any,
        response: Any,
        user: Any = Depend(current_user),
    ) -> Any:
        c, scope, subject = self.container, request.scope, subject_of(user)
        refuse_api_key(scope)
        body = await self._body(request, {"include_api_keys"}, optional=True)
        if optional_bool(body, "include_api_keys"):  # keys are kept unless asked
            await self._revoke_keys(subject, caller_ip(c, scope), "logout_all")
        generation = await c.token_service().revoke_all(subject)  # every login ends
        await devices.forget_devices(c, subject)
        if sessions_active(scope):
            own = session_user(c, scope) == subject
            await end_other_sessions(request, subject, generation=generation)
            if own:
                await session_logout(request)
        await emit(c, EventKind.LOGOUT_ALL, subject, caller_ip(c, scope))
        return _empty(response, clearing_cookies(c))

    # -- refresh ----------------------------------------------------------------------
    async def refresh(self, request: Any, response: Any) -> Any:
        c = self.container
        in_cookies = c.token_cookies() is not None  # jwt.transport cookie|both
        body = await self._body(request, {"refresh_token"}, optional=in_cookies)
        # a token in the body proves possession by itself; the cookie needs its CSRF value
        cookie_token = None
        if in_cookies and body.get("refresh_token") is None:
            cookie_token = refresh_from_cookie(c, request.scope)
        token = cookie_token or require_str(body, "refresh_token", max_chars=MAX_TOKEN_CHARS)
        ip = caller_ip(c, request.scope)
        tokens = c.token_service()
        claims = await tokens.verify(token, "refresh")
        subject = str(claims["sub"])
        record = await c.user_repository().get_by_id(subject)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="refresh_unknown_user")
        try:
            access, new_refresh = await tokens.refresh(token)
        except TokenReused:
            await emit(c, EventKind.REFRESH_REUSE_DETECTED, subject, ip)
            raise
        await devices.touch_refresh(c, new_refresh)
        await emit(c, EventKind.TOKEN_REFRESHED, subject, ip)
        pair = {"access_token": access, "refresh_token": new_refresh, "token_type": "bearer"}
        pair["expires_in"] = int(tokens.access_ttl)
        payload, cookies = body_and_cookies(c, pair)
        return send(response, payload, cookies, headers=NO_STORE)

    # -- password change --------------------------------------------------------------
    async def change_password(
        self,
        request: Any,
        response: Any,
        user: Any = Depend(current_user),
    ) -> Any:
        c, scope, subject = self.container, request.scope, subject_of(user)
        refuse_api_key(scope)
        body = await self._body(request, {"current_password", "new_password"})
        current = require_password(body, "current_password")
        new = require_password(body, "new_password")
        users, passwords = c.user_repository(), c.password_service()
        ip = caller_ip(c, scope)
        record = await users.get_by_id(subject)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="password_unknown_user")
        # the new pair is a fresh login: with TOTP on, a stolen token plus a phished
        # password must not become one (and then an API key or a moved address)
        await self.require_fresh_if_enrolled(record, scope)
        await self._confirm_password(record, current, ip, route="password")
        if new == current:
            raise BadRequest("The new password must differ from the current one.")
        passwords.validate(new)
        await passwords.check_breached(new)
        await users.set_password_hash(record.id, await passwords.hash(new))
        tokens = c.token_service()
        # a new generation: every older credential (this one included) and every login
        # still in flight is refused; the caller continues under the new one
        generation = await tokens.revoke_all(subject)
        await devices.forget_devices(c, subject)
        await self.revoke_keys_after_password_change(subject, ip)
        payload: dict[str, Any] = {}
        if scope.get("auth") == "jwt":
            payload |= await token_pair(tokens, subject, generation)
        if sessions_active(scope):
            if session_user(c, scope) == subject:  # keep the caller in, under a new id
                await session_login(
                    request, record.id, subject=subject, keep_data=True, generation=generation
                )
                payload["csrf_token"] = csrf_token(request)
            await end_other_sessions(request, subject, generation=generation)
        await emit(c, EventKind.PASSWORD_CHANGED, subject, ip)
        body, cookies = body_and_cookies(c, payload)
        return send(response, body, cookies, headers=NO_STORE)

    # -- API keys ---------------------------------------------------------------------
    async def list_keys(self, request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        refuse_api_key(request.scope)
        records = await self.container.api_key_service().list(subject_of(user))
        return response.json({"keys": [public_view(r) for r in records]})

    async def create_key(
        self, request: Any, response: Any, user: Any = Depend(current_user)
    ) -> Any:
        """A key outlives access tokens, so minting one asks for the password again (a
        briefly stolen token must not become permanent access)."""
        c, scope, subject = self.container, request.scope, subject_of(user)
        refuse_api_key(scope)
        settings = c.settings().api_key
        body = await self._body(request, {"name", "scopes", "ttl", "password"})
        password = require_password(body, "password")
        name = optional_str(body, "name", max_chars=100) or ""
        scopes = optional_str_list(body, "scopes", max_items=32, max_chars=64)
        ttl = optional_number(body, "ttl", minimum=0, maximum=settings.max_ttl)
        grantable = settings.grantable_scopes
        if any(s not in grantable and not user_has_permission(user, s) for s in scopes):
            raise PermissionDenied(
                "Requested scopes must be a subset of your permissions.", reason="scope_escalation"
            )
        keys, ip = c.api_key_service(), caller_ip(c, scope)
        stamp = await keys.stamp(subject)  # before the password check: see APIKeyService
        record = await c.user_repository().get_by_id(subject)
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="api_key_unknown_user")
        await self.require_fresh_if_enrolled(record, scope)
        await self._confirm_password(record, password, ip, route="api_key")
        key, made = await keys.create(subject, scopes=scopes, name=name, ttl=ttl, stamp=stamp)
        await emit(c, EventKind.API_KEY_CREATED, subject, ip, key_id=made.key_id, name=name)
        return response.json(
            {"key": key, "id": made.key_id, **public_view(made)},
            status_code=201,
            headers=NO_STORE,
        )

    async def _revoke_keys(self, subject: str, ip: str, why: str) -> None:
        """Every API key of ``subject``, and any creation still in flight, stops working."""
        count = await self.container.api_key_service().revoke_all(subject)
        await emit(self.container, EventKind.API_KEY_REVOKED, subject, ip, all=count, cause=why)

    async def revoke_keys_after_password_change(self, subject: str, ip: str) -> None:
        """Called by ``change_password`` once the new hash is stored, so a creation that
        verified the old password either sees the new stamp or is swept."""
        if self.container.settings().api_key.revoke_on_password_change:
            await self._revoke_keys(subject, ip, "password_change")

    async def revoke_key(
        self,
        request: Any,
        response: Any,
        key_id: str,
        user: Any = Depend(current_user),
    ) -> Any:
        refuse_api_key(request.scope)
        c, subject = self.container, subject_of(user)
        service = c.api_key_service()
        record = await service.store.get(key_id) if 0 < len(key_id) <= 64 else None
        if record is None or record.owner != subject:  # someone else's key is "not found"
            return response.json(
                {"error": "not_found", "detail": "No such API key"}, status_code=404
            )
        await service.revoke(key_id, owner=subject)
        ip = caller_ip(c, request.scope)
        await emit(c, EventKind.API_KEY_REVOKED, subject, ip, key_id=key_id)
        return response.empty(status_code=204)


class EmailNotVerified(PermissionDenied):
    """403 with ``reason: email_not_verified`` in the body (``accounts.require_verified_email``):
    sent only after the right password, so it is safe to tell the user what to do."""

    error_code = "email_not_verified"

    def __init__(self) -> None:
        super().__init__(
            "Confirm your email address first: a new link is on its way.",
            reason="email_not_verified",
        )

    def body(self) -> dict[str, str]:
        return {**super().body(), "reason": "email_not_verified"}


def _empty(response: Any, cookies: list[str]) -> Any:
    result = response.empty(status_code=204)
    for value in cookies:
        response.set_header("set-cookie", value)
    return result


def _configured_mode(container: Any, login_mode: str | None) -> str:
    settings = container.settings()
    mode = login_mode or settings.routes.login_mode
    if mode not in MODES:
        raise ConfigurationError(f"routes.login_mode must be one of {MODES}, got {mode!r}")
    backends = settings.backends
    if mode != "tokens" and "session" not in backends:
        raise ConfigurationError(f"login_mode {mode!r} needs 'session' in config.backends")
    if mode != "session" and "jwt" not in backends:
        raise ConfigurationError(f"login_mode {mode!r} needs 'jwt' in config.backends")
    return str(mode)


def auth_router(
    container: Any,
    *,
    prefix: str = "/auth",
    login_mode: LoginMode | None = None,
    body_limit: int = DEFAULT_BODY_LIMIT,
) -> Router:
    """A Nexios ``Router`` with the auth routes under ``prefix``.

    ``login_mode`` defaults to ``config.routes.login_mode`` (else ``"tokens"``). Checks at
    build time that the container has a ``user_repository`` and a matching backend.
    """
    mode = _configured_mode(container, login_mode)
    try:
        container.user_repository()
    except Exception as exc:
        raise ConfigurationError(
            "auth_router needs container.user_repository: "
            "container.user_repository.override(providers.Object(SqliteUserRepository(path)))"
        ) from exc
    if body_limit < 1024:
        raise ConfigurationError("body_limit must be at least 1024 bytes")
    h = AuthRoutes(container, mode, body_limit)
    router = Router(prefix=prefix, tags=["auth"])
    table: list[RouteRow] = [
        ("/register", "POST", h.register),
        ("/login", "POST", h.login),
        ("/logout", "POST", h.logout),
        ("/logout-all", "POST", h.logout_all),
        ("/refresh", "POST", h.refresh),
        ("/password", "POST", h.change_password),
        ("/api-keys", "GET", h.list_keys),
        ("/api-keys", "POST", h.create_key),
        ("/api-keys/{key_id}", "DELETE", h.revoke_key),
    ]
    for flow in FLOWS:  # each flow module adds its own routes (see FLOWS)
        table.extend(importlib.import_module(f"{__package__}.{flow}").routes(h))
    for path, method, handler in table:
        docs = docs_for(handler.__name__)  # OpenAPI bodies (routes/schemas.py)
        content_type = docs.pop("request_content_type", None)
        name = f"auth_{handler.__name__}"
        route = SafeRoute(path, handler, methods=[method], name=name, tags=["auth"], **docs)
        if content_type is not None:
            route.request_content_type = content_type
        if getattr(handler, "oauth2_password_flow", False):
            route.oauth2_token_url = prefix + path  # http/openapi.py documents the flow
        router.add_route(route)
    return router
