"""Typed settings: the one source of defaults, validated once when the container loads.

``container.config`` stays dependency-injector's ``Configuration`` (YAML, dicts, env
interpolation); ``container.settings()`` turns it into frozen dataclasses. Every default
the library uses lives in the fields below, and every bad value fails at start-up with one
line naming the key (``jwt.access_ttl must be a positive integer, got -1``). Services
receive these sections; none of them carries a default of its own.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from nexios_auth_di.exceptions import ConfigurationError

PROFILES_DIR = Path(__file__).parent / "profiles"
PROFILES = ("development", "testing", "production")
BACKENDS = ("jwt", "session", "api_key")
ENGINES = ("memory", "sqlite", "redis", "sqlalchemy")
CLUSTER_URLS = ("redis+cluster://", "rediss+cluster://")
SAMESITE = ("strict", "lax", "none")
LOGIN_MODES = ("tokens", "session", "both")
JWT_TRANSPORTS = ("header", "cookie", "both")
EMAIL_BACKENDS = ("memory", "console", "smtp")
PASSKEY_UV = ("required", "preferred", "discouraged")  # WebAuthn L2 §5.8.6, §5.4.6
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash output
DAY = 24 * 3600
USERNAME_HARD_MAX = 150  # routes.bodies.MAX_USERNAME_CHARS: longer never reaches the rules


def profile_path(name: str) -> str:
    """Path of a shipped profile, for ``container.config.from_yaml(profile_path(name))``.

    The profiles ship inside the package, so this works from any working directory.
    """
    if name not in PROFILES:
        raise ConfigurationError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}")
    return str(PROFILES_DIR / f"{name}.yaml")


@dataclass(frozen=True, slots=True)
class JWTSettings:
    secret_key: str | None = None
    keys: tuple[Mapping[str, Any], ...] = ()
    active_kid: str | None = None
    kid: str | None = None
    algorithm: str = "HS256"
    issuer: str | None = None
    audience: str | None = None
    access_ttl: int = 900  # 15 minutes: short enough that revocation is a backstop
    refresh_ttl: int = 14 * DAY
    refresh_absolute_ttl: int = 30 * DAY  # RFC 9700 §4.14.2: a login cannot live forever
    max_families_per_user: int = 50  # live logins per user; beyond it the oldest one ends
    leeway: float = 0.0
    header: str = "Authorization"
    prefix: str = "Bearer"
    cache_size: int = 4096
    #: serve GET /.well-known/jwks.json when the ring holds an asymmetric key
    publish_jwks: bool = True
    jwks_max_age: int = 300  # Cache-Control of the JWKS: publish new keys this long ahead
    #: where clients carry tokens: the Authorization header, HttpOnly cookies, or both
    transport: str = "header"
    cookie_secure: bool = True
    cookie_samesite: str = "lax"
    refresh_cookie_path: str = "/auth/refresh"  # the refresh cookie is sent nowhere else

    def key_config(self) -> dict[str, Any]:
        """The mapping ``KeyRing.from_config`` reads."""
        return {
            "secret_key": self.secret_key,
            "keys": list(self.keys),
            "active_kid": self.active_kid,
            "kid": self.kid,
            "algorithm": self.algorithm,
        }


@dataclass(frozen=True, slots=True)
class SessionSettings:
    secret_key: str | None = None
    max_age: int = 14 * DAY
    cookie_name: str = "session"
    user_key: str = "user_id"
    csrf: bool = True
    secure: bool = True
    samesite: str = (
        "lax"  # Lax keeps top-level links from other sites logged in; CSRF tokens cover the rest
    )
    # None: __Host- whenever the cookie is Secure. A sibling subdomain can set a plain
    # cookie for ours (cookie tossing) and pin a victim to the attacker's session; it
    # cannot set a __Host- cookie (RFC 6265bis §4.1.3.2).
    host_prefix: bool | None = None
    server_side: bool = True
    login_url: str | None = None
    websocket_origins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class APIKeySettings:
    header: str = "X-API-Key"
    prefix: str = "nxa"
    default_ttl: int | None = 90 * DAY  # None: keys never expire unless asked (explicit opt-in)
    max_ttl: int = 10 * 365 * DAY
    max_per_user: int = 100
    revoke_on_password_change: bool = True
    # Scopes any user may put on their own keys (``require_scopes`` names them): they only
    # narrow what a key may do on its owner's behalf. Others must be the owner's permissions.
    grantable_scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreSettings:
    sqlite_path: str = "nexios_auth.sqlite3"
    redis_url: str | None = None
    namespace: str = "nxauth"
    revocation_cache: bool = False
    revocation_max_staleness: float = 1.0
    redis_socket_timeout: float = 0.5
    # Redis Cluster (docs/deployment.md); a redis+cluster:// or rediss+cluster:// URL implies it
    redis_cluster: bool = False
    # stores: sqlalchemy (docs/sqlalchemy.md): postgresql+asyncpg://... or sqlite+aiosqlite:///...
    database_url: str | None = None
    database_create_schema: bool = True  # false when `nexios-auth db upgrade` owns the schema


@dataclass(frozen=True, slots=True)
class PasswordSettings:
    profile: str = "rfc9106_low_memory"
    min_length: int = 8
    max_concurrency: int | None = None  # None: one hash per core
    # Hashes allowed to wait beyond the running ones; the next caller gets 503 at once
    # (load shedding). Sized by latency: an admitted login waits at most about
    # queue_depth / max_concurrency hash times (4 / 2 x ~0.2 s on the default profile).
    queue_depth: int = 4


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    storage: str | None = None  # None: follows the stores (memory, sqlite or redis)
    # One source gets 5 guesses at an account; the account-wide limit is looser, so a
    # flood from one address cannot lock the owner out (LoginThrottle's docstring).
    per_account: tuple[int, int] = (30, 300)
    per_ip: tuple[int, int] = (20, 300)
    per_account_ip: tuple[int, int] = (5, 300)
    register_per_ip: tuple[int, int] = (10, 3600)  # account creation (and its hashing) per IP
    base_delay: float = 1.0
    max_delay: float = 900.0
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteSettings:
    login_mode: str = "tokens"  # tokens | session | both
    body_limit: int = 64 * 1024


@dataclass(frozen=True, slots=True)
class UsernameSettings:
    # false: one script per name, and no name wholly in Latin look-alikes (UTS #39 §5.1, §4)
    allow_mixed_scripts: bool = False
    min_length: int = 1
    max_length: int = 64  # fits a screen and a log line; at most USERNAME_HARD_MAX


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """Email, verification, password reset and devices (docs/accounts.md)."""

    #: refuse login (after a right password) until the address is verified
    require_verified_email: bool = False
    reset_token_ttl: int = 1800  # 30 minutes: a reset link is a password in the mail
    verify_token_ttl: int = 2 * DAY
    #: where links in emails point: {public_url}/reset-password?token=...
    public_url: str = "http://localhost:8000"
    reset_path: str = "/reset-password"
    verify_path: str = "/verify-email"
    #: signs reset and verification tokens; null: derived from jwt/session secret
    secret_key: str | None = None
    reset_per_ip: tuple[int, int] = (10, 3600)  # reset requests from one IP per window
    reset_per_address: tuple[int, int] = (3, 3600)  # mails to one address per window
    #: at most one device last-used write per login per this many seconds
    device_touch_interval: int = 60


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """Which sender ``container.email_sender`` builds, and its SMTP options."""

    backend: str = "console"  # memory | console | smtp
    sender: str = "no-reply@localhost"  # the From address
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    use_tls: bool = False  # implicit TLS (port 465)
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    #: directory of override templates: {reset,verify}.{subject,txt,html}
    templates_dir: str | None = None


@dataclass(frozen=True, slots=True)
class MFASettings:
    """TOTP, recovery codes, the mfa_token and step-up freshness (docs/mfa.md)."""

    issuer: str = "nexios_auth_di"
    digits: int = 6
    period: int = 30
    valid_window: int = 1  # steps either side accepted (RFC 6238 5.2)
    mfa_token_ttl: int = 300
    tries_per_token: int = 5  # then the mfa_token dies
    codes_per_user: tuple[int, int] = (5, 300)  # code guesses per user, backoff past it
    recovery_codes: int = 10
    fresh_max_age: int = 300
    secret_key: str | None = None  # None: derived from jwt/session secret_key


@dataclass(frozen=True, slots=True)
class PasskeySettings:
    """WebAuthn relying party (docs/passkeys.md). Empty ``rp_id``/``origins`` follow
    ``accounts.public_url`` (its host, its origin)."""

    rp_id: str | None = None  # a registrable suffix of every origin's host, no port
    rp_name: str = "nexios_auth_di"
    origins: tuple[str, ...] = ()  # exact origins clientDataJSON may name
    user_verification: str = "required"  # required | preferred | discouraged
    resident_key: str = "preferred"  # discoverable credentials (username-less sign-in)
    challenge_ttl: int = 300  # seconds a ceremony's challenge can be answered
    timeout: int = 60_000  # milliseconds, passed to the browser

    def check(self, public_url: str) -> None:
        """Validate, naming the key; ``public_url`` supplies the defaults."""
        if self.user_verification not in PASSKEY_UV:
            _fail("passkeys.user_verification", f"must be one of {', '.join(PASSKEY_UV)}")
        if self.resident_key not in PASSKEY_UV:
            _fail("passkeys.resident_key", f"must be one of {', '.join(PASSKEY_UV)}")
        for key in ("challenge_ttl", "timeout"):
            if getattr(self, key) <= 0:
                _fail(f"passkeys.{key}", f"must be positive, got {getattr(self, key)}")
        rp_id = self.relying_party(public_url)
        if not rp_id or any(c in rp_id for c in ":/@ ") or rp_id != rp_id.lower():
            _fail("passkeys.rp_id", f"must be a lower-case host name without port, got {rp_id!r}")
        for origin in self.allowed_origins(public_url):
            parts = urlsplit(origin)
            host = parts.hostname or ""
            if parts.scheme not in ("https", "http") or parts.path or parts.query:
                _fail("passkeys.origins", f"must be scheme://host[:port] origins, got {origin!r}")
            if parts.scheme == "http" and host != "localhost":
                _fail("passkeys.origins", f"must be https (or http://localhost), got {origin!r}")
            if host != rp_id and not host.endswith("." + rp_id):
                _fail("passkeys.origins", f"{origin!r} is not on passkeys.rp_id {rp_id!r}")

    def relying_party(self, public_url: str) -> str:
        """The RP id in force."""
        return self.rp_id or (urlsplit(public_url).hostname or "")

    def allowed_origins(self, public_url: str) -> tuple[str, ...]:
        """The origins in force."""
        if self.origins:
            return self.origins
        parts = urlsplit(public_url)
        return (f"{parts.scheme}://{parts.netloc}",)


@dataclass(frozen=True, slots=True)
class OIDCProviderSettings:
    """One OpenID Provider we sign users in with (``oidc.providers.<name>``, docs/oidc.md)."""

    issuer: str = ""
    client_id: str = ""
    client_secret: str | None = field(default=None, repr=False)  # never in a repr or a log
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    #: a first sign-in with an unknown identity creates an account (false: 403)
    allow_signup: bool = True
    #: None: {request origin}{router prefix}/oidc/<name>/callback
    redirect_uri: str | None = None


@dataclass(frozen=True, slots=True)
class OIDCSettings:
    """OpenID Connect login (``routes/oidc.py``). ``providers`` maps a name to its
    ``OIDCProviderSettings``; each is checked at load, errors name the key."""

    providers: Mapping[str, Any] = field(default_factory=dict)
    flow_ttl: int = 600  # the whole redirect round trip must finish within this
    max_token_age: int = 600  # an ID token's iat may be at most this old
    leeway: int = 60  # clock skew allowed on exp / iat
    #: at most one JWKS refetch per provider per this many seconds (unknown kids)
    jwks_refetch_interval: int = 60
    discovery_ttl: int = 3600  # discovery and JWKS are cached this long
    http_timeout: float = 10.0
    cookie_name: str = "oidc_flow"

    def __post_init__(self) -> None:
        parsed = {}
        for name, raw in dict(self.providers).items():
            key = f"oidc.providers.{name}"
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name):
                _fail(key, "name must be 1-32 of a-z, 0-9, '_' or '-'")
            if name == "identities":  # GET /oidc/identities lists linked identities
                _fail(key, "name 'identities' is reserved")
            entry = raw if isinstance(raw, OIDCProviderSettings) else None
            entry = entry or _build(OIDCProviderSettings, raw, key + ".")
            if not entry.issuer.startswith("https://") and not _loopback_http(entry.issuer):
                _fail(key + ".issuer", "must be an https URL (http only on 127.0.0.1/localhost)")
            if not entry.client_id:
                _fail(key + ".client_id", "is not set")
            if "openid" not in entry.scopes:
                _fail(key + ".scopes", "must include 'openid'")
            uri = entry.redirect_uri
            if uri is not None and not uri.startswith(("https://", "http://")):
                _fail(key + ".redirect_uri", "must be an absolute http(s) URL")
            parsed[name] = entry
        object.__setattr__(self, "providers", parsed)
        for key in ("flow_ttl", "max_token_age", "jwks_refetch_interval", "discovery_ttl"):
            if getattr(self, key) <= 0:
                _fail(f"oidc.{key}", f"must be positive, got {getattr(self, key)}")
        if self.leeway < 0 or self.http_timeout <= 0:
            _fail("oidc.leeway", "must be >= 0 (and oidc.http_timeout positive)")


def _loopback_http(url: str) -> bool:
    return re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", url) is not None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with its default. Build with ``Settings.load(mapping)``."""

    profile: str | None = None
    backends: tuple[str, ...] = ("jwt",)
    stores: str = "memory"
    jwt: JWTSettings = field(default_factory=JWTSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    api_key: APIKeySettings = field(default_factory=APIKeySettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    passwords: PasswordSettings = field(default_factory=PasswordSettings)
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    routes: RouteSettings = field(default_factory=RouteSettings)
    usernames: UsernameSettings = field(default_factory=UsernameSettings)
    accounts: AccountSettings = field(default_factory=AccountSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    mfa: MFASettings = field(default_factory=MFASettings)
    passkeys: PasskeySettings = field(default_factory=PasskeySettings)
    oidc: OIDCSettings = field(default_factory=OIDCSettings)

    @classmethod
    def load(cls, raw: Mapping[str, Any] | None) -> Settings:
        """Parse and validate ``raw`` (``container.config()``); raise one clear error."""
        settings: Settings = _build(cls, raw or {}, "")
        settings.validate()
        return settings

    def validate(self) -> None:
        """Cross-field rules; each failure names the key and what to do."""
        if self.profile is not None and self.profile not in PROFILES:
            _fail("profile", f"must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if not self.backends or any(b not in BACKENDS for b in self.backends):
            _fail(
                "backends",
                f"must be a non-empty list drawn from {BACKENDS}, got {list(self.backends)!r}",
            )
        if self.stores not in ENGINES:
            _fail("stores", f"unknown engine {self.stores!r}: choose one of {', '.join(ENGINES)}")
        if self.stores == "redis" and not self.store.redis_url:
            _fail("store.redis_url", "is not set (stores: redis)")
        if self.store.redis_cluster and self.stores != "redis":
            _fail("store.redis_cluster", 'needs stores "redis"')
        if self.stores == "sqlalchemy" and not self.store.database_url:
            _fail("store.database_url", "is not set (stores: sqlalchemy)")
        if self.store.revocation_cache and self.stores != "redis":
            _fail("store.revocation_cache", 'needs stores "redis" (it follows Redis pub/sub)')
        if self.routes.login_mode not in LOGIN_MODES:
            _fail("routes.login_mode", f"must be one of {', '.join(LOGIN_MODES)}")
        if self.session.samesite not in SAMESITE:
            _fail("session.samesite", f"must be one of {', '.join(SAMESITE)}")
        if self.session.samesite == "none" and not self.session.secure:
            _fail(
                "session.samesite", "none needs session.secure: true (browsers drop it otherwise)"
            )
        jwt = self.jwt
        if jwt.transport not in JWT_TRANSPORTS:
            _fail("jwt.transport", f"must be one of {', '.join(JWT_TRANSPORTS)}")
        if jwt.cookie_samesite not in SAMESITE:
            _fail("jwt.cookie_samesite", f"must be one of {', '.join(SAMESITE)}")
        if jwt.cookie_samesite == "none" and not jwt.cookie_secure:
            _fail("jwt.cookie_samesite", "none needs jwt.cookie_secure: true")
        if not jwt.refresh_cookie_path.startswith("/"):
            _fail("jwt.refresh_cookie_path", "must start with '/'")
        problem = login_url_problem(self.session.login_url)
        if problem:
            _fail("session.login_url", problem)
        if self.session.host_prefix and not self.session.secure:
            _fail("session.host_prefix", "needs session.secure: true (RFC 6265bis __Host-)")
        for key in (
            "jwt.access_ttl",
            "jwt.refresh_ttl",
            "jwt.refresh_absolute_ttl",
            "jwt.max_families_per_user",
            "session.max_age",
            "jwt.cache_size",
            "jwt.jwks_max_age",
            "passwords.min_length",
            "api_key.max_ttl",
            "api_key.max_per_user",
            "passwords.queue_depth",
            "accounts.reset_token_ttl",
            "accounts.verify_token_ttl",
            "email.port",
            "email.timeout",
        ):
            if self._get(key) <= 0:
                _fail(key, f"must be positive, got {self._get(key)}")
        names = self.usernames
        if names.min_length < 1:
            _fail("usernames.min_length", f"must be at least 1, got {names.min_length}")
        if not names.min_length <= names.max_length <= USERNAME_HARD_MAX:
            _fail(
                "usernames.max_length",
                f"must be between usernames.min_length ({names.min_length}) and "
                f"{USERNAME_HARD_MAX}, got {names.max_length}",
            )
        storage = self.throttle.storage
        if storage is not None and not storage.removeprefix("async+").startswith(
            ("memory://", "redis://", "rediss://", "unix://", "sqlite:///", *CLUSTER_URLS)
        ):
            _fail("throttle.storage", "must be memory://, redis://... or sqlite:///path")
        if self.passwords.max_concurrency is not None and self.passwords.max_concurrency <= 0:
            _fail("passwords.max_concurrency", "must be positive, or null for one per core")
        if self.api_key.default_ttl is not None and self.api_key.default_ttl <= 0:
            _fail("api_key.default_ttl", "must be positive, or null for keys that never expire")
        if (self.api_key.default_ttl or 0) > self.api_key.max_ttl:
            _fail("api_key.default_ttl", "must be at most api_key.max_ttl")
        if any(not s or s != s.strip() for s in self.api_key.grantable_scopes):
            _fail("api_key.grantable_scopes", "must hold non-empty scope names without spaces")
        for key in (
            "throttle.per_account",
            "throttle.per_ip",
            "throttle.per_account_ip",
            "throttle.register_per_ip",
            "accounts.reset_per_ip",
            "accounts.reset_per_address",
        ):
            limit, window = self._get(key)
            if limit < 1 or window < 1:
                _fail(key, f"must be [attempts >= 1, seconds >= 1], got {[limit, window]}")
        if "jwt" in self.backends and not self.jwt.secret_key and not self.jwt.keys:
            _fail("jwt.secret_key", "(or jwt.keys) is not set" + _env_hint("jwt.secret_key"))
        _check_secret("jwt.secret_key", self.jwt.secret_key)
        if "session" in self.backends and self.session.secret_key is not None:
            _check_secret("session.secret_key", self.session.secret_key)
        if self.email.backend not in EMAIL_BACKENDS:
            _fail("email.backend", f"must be one of {', '.join(EMAIL_BACKENDS)}")
        if self.email.starttls and self.email.use_tls and self.email.backend == "smtp":
            _fail("email.starttls", "and email.use_tls exclude each other (pick one)")
        if not self.accounts.public_url.startswith(("https://", "http://")):
            _fail("accounts.public_url", "must be an http(s) URL")
        _check_secret("accounts.secret_key", self.accounts.secret_key)
        self.passkeys.check(self.accounts.public_url)
        if self.profile == "production":
            self._validate_production()

    def _validate_production(self) -> None:
        if not self.session.secure:
            _fail("session.secure", "must be true with the production profile")
        if self.jwt.transport != "header" and not self.jwt.cookie_secure:
            _fail("jwt.cookie_secure", "must be true with the production profile")
        shipped = shipped_secrets()
        for key in ("jwt.secret_key", "session.secret_key"):
            value = self._get(key)
            if value and value in shipped:
                _fail(
                    key,
                    "is a secret published in a shipped profile: generate your own "
                    "(nexios-auth gen-secret, or python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')",
                )

    def dev_secrets_in_use(self) -> list[tuple[str, str | None]]:
        """``(key, env var)`` for each secret that is a shipped, public fallback."""
        shipped = shipped_secrets()
        found = []
        for key in ("jwt.secret_key", "session.secret_key"):
            value = self._get(key)
            if value and value in shipped:
                found.append((key, shipped[value]))
        return found

    def _get(self, dotted: str) -> Any:
        value: Any = self
        for part in dotted.split("."):
            value = getattr(value, part)
        return value


def _fail(key: str, message: str) -> None:
    raise ConfigurationError(f"{key} {message}")


def login_url_problem(url: object) -> str | None:
    """Why ``url`` cannot be the login page anonymous browsers are sent to, else ``None``.

    A path on this site (``/login``) or an absolute ``https://`` / ``http://`` URL with a
    host (a central login site); nothing a browser could read as another scheme or host
    (``//evil``, ``/\\evil``, ``javascript:``), no whitespace or control characters, no
    query of its own beyond what ``?next=`` can be joined to.
    """
    if url is None:
        return None
    if not isinstance(url, str) or not url:
        return "must be a non-empty path such as /login, or null"
    if len(url) > 2048 or any(not 0x21 <= ord(ch) <= 0x7E for ch in url) or "\\" in url:
        return "must be printable ASCII without spaces or backslashes (percent-encode the rest)"
    if "#" in url:
        return "must not have a #fragment (the ?next= parameter would land inside it)"
    if url.startswith("/"):
        return (
            "must not start with // (a browser reads that as another host)"
            if (url.startswith("//"))
            else None
        )
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("https", "http") and rest and rest[0] not in "/?":
        return None
    return "must be a path on this site (/login) or an absolute https:// URL"


def _check_secret(key: str, value: str | None) -> None:
    if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
        _fail(key, f"is shorter than {MIN_SECRET_BYTES} bytes" + _env_hint(key))


def _env_hint(key: str) -> str:
    env = {
        "jwt.secret_key": "NEXIOS_AUTH_JWT_SECRET",
        "session.secret_key": "NEXIOS_AUTH_SESSION_SECRET",
    }.get(key)
    return (
        (
            f": set {env} (generate one with `nexios-auth gen-secret`, or python -c "
            "'import secrets; print(secrets.token_urlsafe(48))')"
        )
        if env
        else ""
    )


_FALLBACK = re.compile(r"\$\{(\w+):([^}]+)\}")
_LITERAL = re.compile(r"^\s*secret_key:\s*([^\s$#][^\s#]*)\s*(?:#.*)?$", re.M)


@cache
def shipped_secrets() -> dict[str, str | None]:
    """Every secret written in a shipped profile -> the env var that should replace it.

    These are public (they are in the package), so production refuses them and other
    profiles warn when one is in use.
    """
    found: dict[str, str | None] = {}
    for name in PROFILES:
        text = (PROFILES_DIR / f"{name}.yaml").read_text()
        for env, default in _FALLBACK.findall(text):
            if "SECRET" in env:
                found[default] = env
        for literal in _LITERAL.findall(text):
            found.setdefault(literal, None)
    return found


# -- parsing ---------------------------------------------------------------------------


def _build(cls: type[Any], raw: Any, prefix: str) -> Any:
    where = prefix.rstrip(".") or "config"
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{where} must be a mapping, got {type(raw).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, raw)) - names)
    if unknown:
        raise ConfigurationError(
            f"unknown setting {prefix}{unknown[0]}: known keys are {', '.join(sorted(names))}"
        )
    values: dict[str, Any] = {}
    for name in names:
        if name not in raw or (raw[name] is None and _is_section(hints[name])):
            continue
        values[name] = _coerce(hints[name], raw[name], f"{prefix}{name}")
    return cls(**values)


def _is_section(hint: Any) -> bool:
    return dataclasses.is_dataclass(hint)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, key + ".")
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(options[0], value, key)
    if origin is tuple:
        args = get_args(hint)
        if isinstance(value, str) or not isinstance(value, list | tuple):
            if args[-1] is Ellipsis and isinstance(value, str) and key == "backends":
                value = [value]
            else:
                raise ConfigurationError(f"{key} must be a list, got {value!r}")
        if args[-1] is Ellipsis:
            return tuple(_coerce(args[0], v, key) for v in value)
        if len(value) != len(args):
            raise ConfigurationError(f"{key} must be a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(a, v, key) for a, v in zip(args, value, strict=True))
    if hint is Mapping[str, Any] or origin is Mapping:
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{key} entries must be mappings, got {value!r}")
        return dict(value)
    return _scalar(hint, value, key)


def _scalar(hint: Any, value: Any, key: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in (
            "true",
            "false",
            "1",
            "0",
            "yes",
            "no",
        ):
            return value.strip().lower() in ("true", "1", "yes")
        raise ConfigurationError(f"{key} must be true or false, got {value!r}")
    if hint is int or hint is float:
        if isinstance(value, bool):
            raise ConfigurationError(f"{key} must be a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{key} must be a number, got {value!r}") from None
        if hint is int:
            if number != int(number):
                raise ConfigurationError(f"{key} must be a whole number, got {value!r}")
            return int(number)
        return number
    if hint is str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigurationError(f"{key} must be a string, got {value!r}")
        text = str(value)
        return text.strip().lower() if key in ("stores", "session.samesite") else text
    return value
