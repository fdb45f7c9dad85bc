"""The HTTP edge: raw ASGI readers, middleware, throttling, error answers, OpenAPI, and
workarounds for Nexios bugs. Import the submodules; this package exports nothing."""
