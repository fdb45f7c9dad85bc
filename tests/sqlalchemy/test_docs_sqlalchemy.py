"""docs/sqlalchemy.md's "own users table" snippet runs as written: an app's own SQLAlchemy
``User`` model behind the ready-made routes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from nexios.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DOC = Path(__file__).resolve().parents[2] / "docs" / "sqlalchemy.md"
PASSWORD = "correct horse battery"


def snippet(heading: str) -> str:
    """The first python block after ``heading`` in the page."""
    page = DOC.read_text()
    match = re.search(r"```python\n(.*?)```", page[page.index(heading) :], re.S)
    assert match is not None, f"no python block under {heading}"
    return match.group(1)


def run_async(url: str, work: Any) -> Any:
    """Run ``work(connection)`` on a throwaway engine (the app's pool belongs to its loop)."""

    async def go() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_own_users_table_snippet_serves_the_router(empty_database: str) -> None:
    """Register, log in, refresh and change the password through the routes; the account
    lands in the app's own ``users`` table under the app's own columns, and a look-alike
    name (fullwidth) is refused as taken (ASVS 2.1: one account per folded name)."""
    namespace: dict[str, Any] = {"__name__": "docs_sqlalchemy_snippet"}
    # dont_inherit: the snippet runs without this module's ``from __future__`` (as a
    # reader's file would), so SQLAlchemy sees real ``Mapped[...]`` annotations
    code = compile(
        snippet("## Your own users table"), "docs/sqlalchemy.md", "exec", dont_inherit=True
    )
    exec(code, namespace)
    app, _container, _engine, metadata = namespace["build_app"](empty_database)

    async def create(conn: Any) -> None:
        await conn.run_sync(metadata.create_all)

    run_async(empty_database, create)
    with TestClient(app, base_url="https://testserver") as client:
        body = {"username": "Ada", "password": PASSWORD}
        made = client.post("/auth/register", json=body)
        assert made.status_code == 201, made.text
        twin = client.post("/auth/register", json={"username": "ＡＤＡ", "password": PASSWORD})
        assert twin.status_code == 409
        pair = client.post("/auth/login", json={"username": "ada", "password": PASSWORD})
        assert pair.status_code == 200, pair.text
        tokens = pair.json()
        rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert rotated.status_code == 200
        changed = client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": "a new long passphrase"},
            headers={"Authorization": f"Bearer {rotated.json()['access_token']}"},
        )
        assert changed.status_code == 200, changed.text

    async def rows(conn: Any) -> list[Any]:
        return list(await conn.execute(text("SELECT id, login, login_key, pw_hash FROM users")))

    stored = run_async(empty_database, rows)
    assert len(stored) == 1
    user_id, login, key, pw_hash = stored[0]
    assert (str(user_id), login, key) == (made.json()["id"], "Ada", "ada")
    assert pw_hash.startswith("$argon2")
