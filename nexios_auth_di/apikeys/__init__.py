"""API keys: ``prefix_<id>_<secret><crc32>``, SHA-256 at rest, scopes and expiry."""

from nexios_auth_di.apikeys.service import (
    APIKeyLimitReached,
    APIKeyService,
    public_view,
    scopes_as_permissions,
)

__all__ = ["APIKeyLimitReached", "APIKeyService", "public_view", "scopes_as_permissions"]
