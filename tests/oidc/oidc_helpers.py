"""Helpers for the OIDC tests: a user agent that walks the real provider's login and
consent forms over HTTP, our side's flow cookie, and ID tokens minted for the forged rows."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
from nexios.testclient import TestClient

OURS = "https://testserver"
CLIENT_ID = "nexios-test"
CLIENT_SECRET = "nexios-test-secret-0123456789abcdef"
PROVIDER = "test"
FLOW_COOKIE = "__Host-oidc_flow"
_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S | re.I)
_INPUT = re.compile(r"<input([^>]*)>", re.I)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class OurBrowser:
    """One browser talking to our app: its own flow cookie, its own bearer token."""

    client: TestClient
    cookies: dict[str, str] = field(default_factory=dict)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.client.cookies.clear()
        response = self.client.get(url, headers=headers, follow_redirects=False, **kwargs)
        self.client.cookies.clear()
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in line.lower() or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return response


def walk_provider(authorization_url: str, login: str = "alice") -> str:
    """Follow the provider as a user would: sign in as ``login`` (devInteractions takes
    any password), consent, and return the redirect to our callback."""
    with httpx.Client(follow_redirects=False, timeout=10.0) as agent:
        response = agent.get(authorization_url)
        for _ in range(20):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(OURS):
                    return target
                response = agent.get(target)
                continue
            assert response.status_code == 200, re.sub(
                r"<style>.*?</style>", "", response.text, flags=re.S
            )[:1500]
            found = _FORM.search(response.text)
            assert found is not None, response.text[:500]
            action, inner = html.unescape(found.group(1)), found.group(2)
            data: dict[str, str] = {}
            for attrs in _INPUT.findall(inner):
                pairs = dict(_ATTR.findall(attrs))
                if "name" in pairs:
                    data[pairs["name"]] = html.unescape(pairs.get("value", ""))
            if "login" in data:
                data |= {"login": login, "password": "any-password"}
            response = agent.post(urljoin(str(response.url), action), data=data)
    raise AssertionError("the provider never redirected back")


def sign_in(browser: OurBrowser, login: str = "alice", next_url: str | None = None) -> str:
    """``/login`` then the provider: the callback URL (not yet followed)."""
    params = {} if next_url is None else {"next": next_url}
    start = browser.get(f"/auth/oidc/{PROVIDER}/login", params=params)
    assert start.status_code == 302, start.text
    return walk_provider(start.headers["location"], login)


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def provider_key(path: str) -> Any:
    """The provider's own signing key (scripts/oidc-test-server writes it, for tests)."""
    return jwt.PyJWK(json.loads(Path(path).read_text()))


def mint(key: Any, kid: str, claims: dict[str, Any], alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def claims_for(issuer: str, nonce: str, sub: str = "forged-user", **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": issuer, "sub": sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300}
    return {**base, "nonce": nonce, **extra}


def random_sub() -> str:
    return "u-" + secrets.token_hex(4)
