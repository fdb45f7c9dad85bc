"""OpenID Connect login (client side): discovery, JWKS, code exchange, ID token checks
(``client.py``), the browser-bound flow state (``flow.py``) and linked identities
(``identities.py``). The routes are ``routes/oidc.py``; see docs/oidc.md.

Needs the ``oidc`` extra (authlib, httpx); nothing here is imported unless a provider is
configured and a route is hit.
"""
