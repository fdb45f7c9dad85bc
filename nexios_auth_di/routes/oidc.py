"""OpenID Connect login routes (a ``FLOWS`` module, see handlers; docs/oidc.md).

``GET /oidc/{provider}/login[?next=/path]`` 302 to the provider (code flow, PKCE S256,
state, nonce); ``GET /oidc/{provider}/callback`` checks the round trip and ends in
``AuthRoutes.complete_login(method="oidc")``, so the login mode and MFA apply as for a
password. Signed in: ``GET /oidc/{provider}/link`` (same round trip, links instead of
logging in), ``GET /oidc/identities``, ``DELETE /oidc/identities/{identity_id}``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from nexios import Depend

from nexios_auth_di.dependencies import current_user
from nexios_auth_di.events import EventKind
from nexios_auth_di.exceptions import AuthenticationFailed, BadRequest, ConfigurationError
from nexios_auth_di.http.asgi import cookie
from nexios_auth_di.http.login_redirect import wants_page
from nexios_auth_di.routes.support import NO_STORE, caller_ip, emit, refuse_api_key, subject_of

if TYPE_CHECKING:
    from nexios_auth_di.routes.handlers import AuthRoutes, RouteRow

__all__ = ["routes"]

MAX_PARAM_CHARS = 4096
NOT_FOUND = {"error": "not_found", "detail": "No such identity provider"}


class FlowRefused(AuthenticationFailed):
    """401: the callback does not belong to a flow this browser started, in time."""

    default_detail = "This sign-in link is not valid here; start again."

    def __init__(self, reason: str) -> None:
        super().__init__(self.default_detail, reason=f"oidc_{reason}")


def _param(request: Any, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_PARAM_CHARS):
        raise BadRequest(f"Query parameter {name!r} is too long.", reason="oidc_param")
    return value


def routes(h: AuthRoutes) -> list[RouteRow]:
    c = h.container

    def provider_of(name: str) -> Any:
        conf = c.settings().oidc.providers.get(name)
        return None if conf is None else (conf, c.oidc_clients()[name])

    def cookie_parts() -> tuple[str, bool]:
        from nexios_auth_di.oidc.flow import cookie_name

        settings = c.settings()
        secure = settings.session.secure
        return cookie_name(settings.oidc.cookie_name, secure), secure

    async def start(request: Any, response: Any, provider: str, link_user: str | None) -> Any:
        from nexios_auth_di.oidc.flow import FLOW_PREFIX, flow_cookie, new_flow, safe_next

        found = provider_of(provider)
        if found is None:
            return response.json(NOT_FOUND, status_code=404)
        conf, client = found
        next_url = safe_next(_param(request, "next"))
        settings, now = c.settings().oidc, c.clock()()
        flow = new_flow(provider, next_url, now, link_user)
        if link_user is not None:  # the link completes only under the same credentials
            flow["link_gen"] = await c.revocation_store().current_generation(link_user)
        flow["redirect_uri"] = conf.redirect_uri or _callback_url(request)
        url = await client.authorization_url(
            flow["redirect_uri"], flow["state"], flow["nonce"], flow["verifier"]
        )
        flow_id = secrets.token_urlsafe(32)
        await c.one_time_store().put(FLOW_PREFIX + flow_id, flow, float(settings.flow_ttl))
        name, secure = cookie_parts()
        set_cookie = flow_cookie(name, flow_id, settings.flow_ttl, secure=secure)
        if _param(request, "response") == "json":  # for scripts that cannot follow a 302
            result = response.json({"authorization_url": url}, headers=NO_STORE)
        else:
            result = response.redirect(url, status_code=302, headers=dict(NO_STORE))
        response.set_header("set-cookie", set_cookie)
        return result

    async def oidc_login(request: Any, response: Any, provider: str) -> Any:
        return await start(request, response, provider, None)

    async def oidc_link(
        request: Any, response: Any, provider: str, user: Any = Depend(current_user)
    ) -> Any:
        refuse_api_key(request.scope)
        return await start(request, response, provider, subject_of(user))

    async def take_flow(request: Any, provider: str) -> dict[str, Any]:
        """The flow this browser started for ``provider``, spent now, and checked."""
        from nexios_auth_di.oidc.flow import FLOW_PREFIX

        name, _ = cookie_parts()
        flow_id = cookie(request.scope, name)
        state = _param(request, "state")
        if not state:
            raise FlowRefused("state_missing")  # RFC 6749 §10.12
        if not flow_id or len(flow_id) > 128:
            raise FlowRefused("no_flow_cookie")  # another browser's state: §10.12
        flow = await c.one_time_store().take(FLOW_PREFIX + flow_id)  # single use
        if flow is None:
            raise FlowRefused("flow_unknown")
        if flow.get("provider") != provider:
            raise FlowRefused("provider_mismatch")
        if not hmac.compare_digest(str(flow["state"]).encode(), state.encode()):
            raise FlowRefused("state_mismatch")
        if c.clock()() - float(flow["started"]) > c.settings().oidc.flow_ttl:
            raise FlowRefused("flow_expired")
        result: dict[str, Any] = flow
        return result

    async def oidc_callback(request: Any, response: Any, provider: str) -> Any:
        from nexios_auth_di.oidc import identities
        from nexios_auth_di.oidc.flow import flow_cookie

        found = provider_of(provider)
        if found is None:
            return response.json(NOT_FOUND, status_code=404)
        conf, client = found
        ip = caller_ip(c, request.scope)
        name, secure = cookie_parts()
        clear = flow_cookie(name, "", 0, secure=secure)
        try:
            flow = await take_flow(request, provider)
            if _param(request, "error") is not None:  # the user said no, or the provider did
                raise FlowRefused("provider_error")
            issuer = _param(request, "iss")
            if issuer is not None and issuer != conf.issuer:  # RFC 9207 §2.4 mix-up
                raise FlowRefused("wrong_iss_param")
            meta = await client.metadata()
            if issuer is None and meta.get("authorization_response_iss_parameter_supported"):
                raise FlowRefused("iss_param_missing")  # advertised, so required (§2.4)
            code = _param(request, "code")
            if not code:
                raise FlowRefused("code_missing")
            tokens = await client.exchange(code, flow["redirect_uri"], flow["verifier"])
            claims = await client.verify_id_token(tokens["id_token"], flow["nonce"])
            if flow.get("link_user"):
                users = c.user_repository()
                owner = await users.get_by_id(str(flow["link_user"]))
                if owner is None or not owner.is_active:
                    raise AuthenticationFailed(reason="oidc_link_unknown_user")
                now_gen = await c.revocation_store().current_generation(owner.id)
                if now_gen != flow.get("link_gen"):  # logged out everywhere meanwhile
                    raise AuthenticationFailed(reason="oidc_link_stale_login")
                linked = await identities.link(c, owner.id, provider, claims)
                await emit(c, EventKind.IDENTITY_LINKED, owner.id, ip, provider=provider)
                result = response.json(
                    {"linked": identities.public_view(linked), "next": flow["next"]},
                    headers=NO_STORE,
                )
                response.set_header("set-cookie", clear)
                return result
            record, created = await identities.find_or_create(c, provider, conf, claims)
        except (AuthenticationFailed, BadRequest) as exc:
            await emit(c, EventKind.LOGIN_FAILED, None, ip, route="oidc", provider=provider,
                       reason=getattr(exc, "reason", "oidc"))  # fmt: skip
            raise
        except Exception as exc:  # 403/409/503: audited too, then answered as they are
            await emit(c, EventKind.LOGIN_FAILED, None, ip, route="oidc", provider=provider,
                       reason=getattr(exc, "reason", type(exc).__name__))  # fmt: skip
            raise
        if created:
            await emit(c, EventKind.REGISTERED, record.id, ip, method="oidc", provider=provider)
        elif created is None:  # joined by verified email: linked just now
            await emit(c, EventKind.IDENTITY_LINKED, record.id, ip, provider=provider, by="email")
        generation = await c.revocation_store().current_generation(record.id)
        browser = h.mode == "session" and wants_page(request.scope)
        result = await h.complete_login(
            request,
            _WithNext(response, flow["next"], browser),
            record,
            generation,
            method="oidc",
        )
        response.set_header("set-cookie", clear)
        return result

    async def oidc_identities(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        from nexios_auth_di.oidc import identities

        refuse_api_key(request.scope)
        records = await c.credential_store().list_for_user(subject_of(user), identities.KIND)
        views = [identities.public_view(r) for r in records]
        return response.json({"identities": views}, headers=NO_STORE)

    async def oidc_unlink(
        request: Any, response: Any, identity_id: str, user: Any = Depend(current_user)
    ) -> Any:
        from nexios_auth_di.oidc import identities

        refuse_api_key(request.scope)
        record = await c.user_repository().get_by_id(subject_of(user))
        if record is None or not record.is_active:
            raise AuthenticationFailed(reason="oidc_unknown_user")
        credential_id = identities.record_id_of(identity_id)
        gone = credential_id is not None and await identities.unlink(c, record, credential_id)
        if not gone:
            return response.json(
                {"error": "not_found", "detail": "No such identity"}, status_code=404
            )
        ip = caller_ip(c, request.scope)
        await emit(c, EventKind.IDENTITY_UNLINKED, record.id, ip, identity=identity_id)
        return response.empty(status_code=204)

    if c.settings().oidc.providers:
        try:
            c.oidc_clients()
        except ImportError as exc:  # the [oidc] extra is missing
            raise ConfigurationError("oidc.providers needs the extra: pip install "
                                     "'nexios-auth-di[oidc]'") from exc  # fmt: skip
    return [
        ("/oidc/identities", "GET", oidc_identities),
        ("/oidc/identities/{identity_id}", "DELETE", oidc_unlink),
        ("/oidc/{provider}/login", "GET", oidc_login),
        ("/oidc/{provider}/link", "GET", oidc_link),
        ("/oidc/{provider}/callback", "GET", oidc_callback),
    ]


def _callback_url(request: Any) -> str:
    """This route's sibling ``.../callback``, with the mount prefix (``root_path``)."""
    parts = urlsplit(str(request.url))
    path = str(request.scope.get("root_path") or "") + str(request.scope["path"])
    return f"{parts.scheme}://{parts.netloc}{path.rsplit('/', 1)[0]}/callback"


class _WithNext:
    """The response, with the flow's validated ``next`` added to the JSON that
    ``complete_login`` sends (credentials, or the ``mfa_token`` step). A browser
    navigation in session mode is sent there instead (303: the session cookie is set on
    this answer, and a page, not JSON, is what the user came back for)."""

    def __init__(self, response: Any, next_url: str, browser: bool = False) -> None:
        self._response, self._next, self._browser = response, next_url, browser

    def json(self, payload: Any, **options: Any) -> Any:
        if self._browser and "mfa_token" not in payload:
            return self._response.redirect(self._next, status_code=303, headers=dict(NO_STORE))
        return self._response.json({**payload, "next": self._next}, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)
