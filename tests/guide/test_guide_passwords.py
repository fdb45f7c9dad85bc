"""Guide § Security Considerations / Password Security: bcrypt replaced by the container's
argon2id PasswordService (hashing runs off the event loop)."""

from __future__ import annotations

from typing import Any

from nexios import NexiosApp
from nexios.testclient import TestClient

from nexios_auth_di import inject, install
from nexios_auth_di.testing import make_test_container


def build_app() -> tuple[NexiosApp, dict[str, str]]:
    container = make_test_container({}, backends=["jwt"])
    hashes: dict[str, str] = {}  # the guide's db.create_user table
    app = NexiosApp()
    install(app, container)

    @app.post("/register")
    async def register(
        request: Any, response: Any, passwords: Any = inject("password_service")
    ) -> Any:
        data = await request.json
        username, password = data.get("username"), data.get("password")
        passwords.validate(password)  # BadRequest (400) on a weak or oversized password
        hashes[username] = await passwords.hash(password)
        return response.json({"message": "User created successfully"}, status_code=201)

    @app.post("/login")
    async def login(
        request: Any, response: Any, passwords: Any = inject("password_service")
    ) -> Any:
        data = await request.json
        stored = hashes.get(data.get("username"))
        if stored is None:
            await passwords.dummy_verify(data.get("password", ""))  # same timing as a miss
            ok = False
        else:
            ok = await passwords.verify(stored, data.get("password", ""))
        if not ok:
            return response.json({"error": "Invalid credentials"}, status_code=401)
        return {"message": "Login successful"}

    return app, hashes


def test_register_stores_an_argon2id_hash_and_login_verifies_it() -> None:
    """/register keeps only an argon2id hash; /login accepts the password and rejects others."""
    app, hashes = build_app()
    with TestClient(app) as c:
        r = c.post("/register", json={"username": "ann", "password": "correct horse battery"})
        good = c.post("/login", json={"username": "ann", "password": "correct horse battery"})
        bad = c.post("/login", json={"username": "ann", "password": "wrong horse battery"})
        ghost = c.post("/login", json={"username": "nobody", "password": "whatever123"})
    assert r.status_code == 201
    assert r.json() == {"message": "User created successfully"}
    assert hashes["ann"].startswith("$argon2id$")
    assert "correct horse" not in hashes["ann"]
    assert good.status_code == 200
    assert bad.status_code == 401
    assert ghost.status_code == 401
    assert bad.json() == ghost.json()  # the answer does not reveal who exists


def test_short_password_is_a_400_not_a_500() -> None:
    """A password under the minimum length is refused with 400 and a clear message."""
    app, hashes = build_app()
    with TestClient(app) as c:
        r = c.post("/register", json={"username": "ann", "password": "short"})
    assert r.status_code == 400
    assert "at least 8 characters" in r.text
    assert hashes == {}
