"""An application that takes its ``AuthContainer`` from outside, so its tests can hand it
a testing one (the Nexios guide's "Testing Authentication", done with providers).

The tests beside it (``test_app.py``) are the app's own test file: they override
``user_loader``, use ``override_user``, the package's pytest fixtures and swap a store.
"""

from __future__ import annotations

from typing import Any

from nexios import NexiosApp
from nexios.dependencies import Depend

from nexios_auth_di import AuthContainer, current_user, install, permission_required


def create_app(container: AuthContainer) -> NexiosApp:
    """The app, authenticated by ``container`` (production builds it from a profile)."""
    app = NexiosApp(title="testing example", debug=False)

    @app.get("/profile")
    async def profile(request: Any, response: Any, user: Any = Depend(current_user)) -> Any:
        return {"username": user.username}

    @app.get("/admin")
    @permission_required("admin")
    async def admin(request: Any, response: Any) -> Any:
        return {"admin": request.user.username}

    install(app, container)
    return app
