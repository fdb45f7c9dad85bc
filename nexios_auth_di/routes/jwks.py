"""``GET /.well-known/jwks.json``: the key ring's public keys, for other services.

``install()`` mounts it when the ring holds an asymmetric key (``jwt.publish_jwks``,
default on). The document is rebuilt only when the ring changes (its ``generation``), and
sent with an ``ETag`` and ``Cache-Control: public, max-age=jwt.jwks_max_age``: publish a
new key (verify-only) at least that long before it starts signing, so every verifier's
cache has it by then (docs/jwks.md, key rotation).
"""

from __future__ import annotations

from typing import Any

from nexios_auth_di.routes.support import SafeRoute
from nexios_auth_di.tokens.jwks import jwks_of, publishable

__all__ = ["JWKS_PATH", "JWKSDocument", "jwks_route", "wants_jwks"]

JWKS_PATH = "/.well-known/jwks.json"


class JWKSDocument:
    """The served document, cached per key ring and ring generation."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self._built_for: tuple[int, int] | None = None
        self._document: dict[str, Any] = {}
        self._etag = ""

    def current(self) -> tuple[dict[str, Any], str]:
        ring = self.container.key_ring()
        version = (id(ring), ring.generation)
        if version != self._built_for:
            self._document, self._etag = jwks_of(ring)
            self._built_for = version
        return self._document, self._etag

    async def handle(self, request: Any, response: Any) -> Any:
        document, etag = self.current()
        max_age = self.container.settings().jwt.jwks_max_age
        headers = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag}
        if etag in (request.headers.get("if-none-match") or "").split(", "):
            return response.empty(status_code=304, headers=headers)
        return response.json(document, headers=headers)


def wants_jwks(container: Any) -> bool:
    """Publish when configured to and the ring holds a key other services can use."""
    if not container.settings().jwt.publish_jwks:
        return False
    ring = container.key_ring()
    return any(publishable(key) for kid in ring.kids if (key := ring.get(kid)) is not None)


def jwks_route(container: Any) -> SafeRoute:
    """The route ``install()`` adds (public: no credential asked)."""
    return SafeRoute(
        JWKS_PATH,
        JWKSDocument(container).handle,
        methods=["GET"],
        name="auth_jwks",
        summary="JSON Web Key Set: public keys that verify this service's tokens",
        tags=["auth"],
    )
