"""One OpenID Provider, as the relying party sees it: discovery, the authorization URL,
the code exchange, and the ID token checks of OIDC Core §3.1.3.7.

authlib shapes the OAuth 2.0 messages (RFC 6749 §4.1, RFC 7636 PKCE); PyJWT verifies the
ID token against the provider's JWKS (the library's JWT engine already). The discovery
document and the JWKS are cached for ``oidc.discovery_ttl``; a token whose ``kid`` is not
in the cached set triggers one refetch (key rotation), at most once per
``oidc.jwks_refetch_interval``: a stream of tokens with made-up kids cannot turn into a
stream of requests to the provider.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote_plus

import httpx
import jwt
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from nexios_auth_di.config import OIDCProviderSettings, OIDCSettings
from nexios_auth_di.exceptions import AuthenticationFailed, StoreUnavailable

__all__ = ["IdTokenRejected", "ProviderClient", "ProviderUnavailable"]

#: asymmetric algorithms only: an HS256 ID token keyed with the client secret is refused
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
MAX_DOCUMENT_BYTES = 256 * 1024
_DECODE_OPTIONS: Any = {
    "require": ["iss", "sub", "aud", "exp", "iat"],
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}


class ProviderUnavailable(StoreUnavailable):
    """503: the identity provider did not answer, or answered nonsense."""

    error_code = "identity_provider_unavailable"
    default_detail = "The identity provider is unavailable; try again later."


class IdTokenRejected(AuthenticationFailed):
    """401: the code exchange or the ID token failed a check (``reason`` names which)."""

    default_detail = "Sign-in with the identity provider failed."

    def __init__(self, reason: str) -> None:
        super().__init__(self.default_detail, reason=f"oidc_{reason}")


class ProviderClient:
    """Talks to one provider. Built once per container (``container.oidc_clients``), so
    its caches are per process; nothing is fetched until the first login."""

    def __init__(
        self,
        name: str,
        conf: OIDCProviderSettings,
        oidc: OIDCSettings,
        clock: Callable[[], float],
    ) -> None:
        self.name, self.conf, self.oidc, self.clock = name, conf, oidc, clock
        self._meta: dict[str, Any] | None = None
        self._meta_at = 0.0
        self._keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        self._keys_at = 0.0
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        #: JWKS downloads so far (the refetch bound is tested on it)
        self.jwks_fetches = 0

    # -- HTTP -------------------------------------------------------------------------
    def http(self) -> httpx.AsyncClient:
        """A client for one exchange; tests may override to point elsewhere."""
        return httpx.AsyncClient(timeout=self.oidc.http_timeout, follow_redirects=False)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self.http() as http:
                answer = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise ProviderUnavailable(reason="oidc_provider_unreachable") from None
        return _document(answer)

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (OIDC Discovery §4), checked to name our issuer."""
        now = self.clock()
        if self._meta is None or now - self._meta_at > self.oidc.discovery_ttl:
            issuer = self.conf.issuer.rstrip("/")
            meta = await self._get_json(issuer + "/.well-known/openid-configuration")
            if meta.get("issuer") != self.conf.issuer:  # OIDC Discovery §4.3
                raise ProviderUnavailable(reason="oidc_discovery_issuer_mismatch")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(meta.get(key), str):
                    raise ProviderUnavailable(reason=f"oidc_discovery_missing_{key}")
            self._meta, self._meta_at = meta, now
        return self._meta

    # -- authorization request ----------------------------------------------------------
    async def authorization_url(
        self, redirect_uri: str, state: str, nonce: str, verifier: str
    ) -> str:
        """The RFC 6749 §4.1.1 request, with PKCE S256 (RFC 7636 §4.2) and a nonce."""
        meta = await self.metadata()
        uri: str = prepare_grant_uri(
            meta["authorization_endpoint"],
            self.conf.client_id,
            "code",
            redirect_uri,
            " ".join(self.conf.scopes),
            state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return uri

    # -- token request ------------------------------------------------------------------
    async def exchange(self, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        """Trade ``code`` for tokens (RFC 6749 §4.1.3) with the PKCE verifier; a refusal
        (a replayed or foreign code) is 401, an unreachable provider 503."""
        meta = await self.metadata()
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )
        secret = self.conf.client_secret
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if secret is None:  # a public client: PKCE alone (RFC 6749 §2.3 none)
            body += "&" + str(httpx.QueryParams({"client_id": self.conf.client_id}))
        else:  # client_secret_basic (RFC 6749 §2.3.1)
            headers["Authorization"] = _basic(self.conf.client_id, secret)
        try:
            async with self.http() as http:
                answer = await http.post(meta["token_endpoint"], content=body, headers=headers)
        except httpx.HTTPError:
            raise ProviderUnavailable(reason="oidc_provider_unreachable") from None
        if 400 <= answer.status_code < 500:
            raise IdTokenRejected("code_refused")
        tokens = _document(answer)
        if not isinstance(tokens.get("id_token"), str):
            raise IdTokenRejected("no_id_token")
        return tokens

    # -- ID token -------------------------------------------------------------------------
    async def _key(self, kid: str | None) -> tuple[jwt.PyJWK, str | None]:
        """The provider's key ``kid``: cached, else one bounded refetch (key rotation)."""
        now = self.clock()
        if kid in self._keys and now - self._keys_at <= self.oidc.discovery_ttl:
            return self._keys[kid]
        async with self._lock:
            stale = now - self._keys_at > self.oidc.discovery_ttl
            if kid in self._keys and not stale:
                return self._keys[kid]
            # a fetch at most once per interval, whatever the kids asked for
            if stale or now - self._last_fetch >= self.oidc.jwks_refetch_interval:
                self._last_fetch = now
                await self._fetch_keys(now)
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid is None or kid not in self._keys:
            raise IdTokenRejected("unknown_key")
        return self._keys[kid]

    async def _fetch_keys(self, now: float) -> None:
        meta = await self.metadata()
        self.jwks_fetches += 1
        document = await self._get_json(meta["jwks_uri"])
        keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        for entry in document.get("keys") or ():
            if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(dict(entry))
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                continue  # one odd key (an unsupported type) must not hide the others
            alg = entry.get("alg")
            keys[str(entry.get("kid", ""))] = (key, alg if isinstance(alg, str) else None)
        if not keys:
            raise ProviderUnavailable(reason="oidc_jwks_empty")
        self._keys, self._keys_at = keys, now

    async def verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        """Claims of a valid ID token, per OIDC Core §3.1.3.7; else ``IdTokenRejected``
        naming the failed rule (signature, iss, aud, azp, exp, iat, nonce)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise IdTokenRejected("malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise IdTokenRejected("bad_alg")  # §3.1.3.7 item 7; "none" and HS* included
        kid = header.get("kid")
        key, key_alg = await self._key(kid if isinstance(kid, str) else None)
        if key_alg is not None and key_alg != header["alg"]:
            raise IdTokenRejected("bad_alg")  # the key says which algorithm it signs with
        now, leeway = self.clock(), self.oidc.leeway
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[header["alg"]],
                audience=self.conf.client_id,
                issuer=self.conf.issuer,
                leeway=leeway,
                options=_DECODE_OPTIONS,  # times: _check_times (iat age too)
            )
        except jwt.InvalidAudienceError:
            raise IdTokenRejected("wrong_aud") from None
        except jwt.InvalidIssuerError:
            raise IdTokenRejected("wrong_iss") from None
        except jwt.InvalidSignatureError:
            raise IdTokenRejected("bad_signature") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise IdTokenRejected("invalid") from None
        _check_times(claims, now, leeway, self.oidc.max_token_age)
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1:  # §3.1.3.7 items 4 and 5
            if claims.get("azp") != self.conf.client_id:
                raise IdTokenRejected("wrong_azp")
        elif "azp" in claims and claims["azp"] != self.conf.client_id:
            raise IdTokenRejected("wrong_azp")
        if not isinstance(claims.get("nonce"), str) or not _same(claims["nonce"], nonce):
            raise IdTokenRejected("wrong_nonce")  # §3.1.3.7 item 11
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
            raise IdTokenRejected("bad_sub")  # §2: at most 255 ASCII characters
        return claims


def _check_times(claims: Mapping[str, Any], now: float, leeway: float, max_age: float) -> None:
    """``exp`` in the future (item 9); ``iat`` neither ahead of our clock nor older than
    ``max_age`` (item 10: "can be used to reject tokens issued too far away from now")."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise IdTokenRejected("invalid")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise IdTokenRejected("invalid")
    if exp <= now - leeway:
        raise IdTokenRejected("expired")
    if iat > now + leeway:
        raise IdTokenRejected("iat_in_future")
    if iat < now - max_age - leeway:
        raise IdTokenRejected("iat_too_old")


def _basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-encoded, then Basic (a ``:`` in an id survives)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _document(answer: httpx.Response) -> dict[str, Any]:
    """A JSON object from the provider, bounded; anything else is the provider's fault."""
    if answer.status_code != 200 or len(answer.content) > MAX_DOCUMENT_BYTES:
        raise ProviderUnavailable(reason=f"oidc_provider_http_{answer.status_code}")
    try:
        value = json.loads(answer.content)
    except ValueError:
        raise ProviderUnavailable(reason="oidc_provider_not_json") from None
    if not isinstance(value, dict):
        raise ProviderUnavailable(reason="oidc_provider_not_json")
    return value
