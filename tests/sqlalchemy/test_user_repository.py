"""``SqlAlchemyUserRepository`` keeps users as ``SqliteUserRepository`` does, on SQLite
(aiosqlite) and PostgreSQL (asyncpg): the same keys, conflicts, racing sign-ups and the
same fail-closed answer when the database is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from nexios_auth_di.exceptions import Conflict, StoreUnavailable
from nexios_auth_di.routes.users import AccountRepository, UserRepository, user_loader_for
from nexios_auth_di.stores.sqlalchemy.migrate import upgrade
from nexios_auth_di.stores.sqlalchemy.users import SqlAlchemyUserRepository


@pytest.fixture
async def repo(empty_database: str) -> AsyncIterator[SqlAlchemyUserRepository]:
    """A repository on an empty database migrated to head (as a deploy would have it)."""
    await asyncio.to_thread(upgrade, empty_database)
    made = SqlAlchemyUserRepository(empty_database)
    made.db.create_schema = False  # the migrations alone must be enough
    yield made
    await made.close()


async def test_satisfies_both_repository_protocols(repo: SqlAlchemyUserRepository) -> None:
    """The routes accept it wherever they take a UserRepository or an AccountRepository."""
    assert isinstance(repo, UserRepository)
    assert isinstance(repo, AccountRepository)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("alice", "ALICE", id="case-folded-ASVS-2.1"),
        pytest.param("alice", "ａｌｉｃｅ", id="fullwidth-NFKC-confusable"),
        pytest.param("straße", "STRASSE", id="casefold-expands-sharp-s"),
    ],
)
async def test_usernames_are_unique_by_their_key(
    repo: SqlAlchemyUserRepository, first: str, second: str
) -> None:
    """A name that folds to a taken one is the same account, so a look-alike sign-up is a
    409 and sign-in by the look-alike finds the first account."""
    made = await repo.create(first, "h")
    with pytest.raises(Conflict) as taken:
        await repo.create(second, "h2")
    assert taken.value.reason == "username_taken"
    found = await repo.get_by_username(second)
    assert found is not None
    assert found.id == made.id


async def test_fifty_racing_signups_have_one_winner(repo: SqlAlchemyUserRepository) -> None:
    """50 concurrent registrations of one name: the unique index lets exactly one in and
    the others get Conflict (never a second account, never a 500)."""
    results = await asyncio.gather(
        *[repo.create("racer", f"h{i}") for i in range(50)], return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))


async def test_fields_round_trip_and_admin_changes(repo: SqlAlchemyUserRepository) -> None:
    """Hash, permissions, activity and address come back as stored; a deactivated user no
    longer loads (its tokens and sessions stop working)."""
    made = await repo.create("ada", "hash-1", ("admin", "read"), email="Ada@Example.com")
    got = await repo.get_by_id(made.id)
    assert got == made
    await repo.set_password_hash(made.id, "hash-2")
    await repo.set_permissions(made.id, ["read"])
    await repo.set_email(made.id, "ada@example.org", verified=True)
    got = await repo.get_by_username("ADA")
    assert got is not None
    assert (got.password_hash, got.permissions) == ("hash-2", ("read",))
    assert (got.email, got.email_verified) == ("ada@example.org", True)
    load = user_loader_for(repo)
    assert (await load(made.id)) is not None
    await repo.set_active(made.id, False)
    assert await load(made.id) is None
    assert await repo.get_by_id("no-such-id") is None


async def test_taken_address_on_create_leaves_no_account(repo: SqlAlchemyUserRepository) -> None:
    """A sign-up with a taken address (any case) is refused whole: no user is left behind."""
    await repo.create("alice", "h", email="alice@example.com")
    with pytest.raises(Conflict) as taken:
        await repo.create("bob", "h", email="ALICE@example.com")
    assert taken.value.reason == "email_taken"
    assert await repo.get_by_username("bob") is None


async def test_unreachable_database_is_store_unavailable() -> None:
    """Nothing listening: every call is StoreUnavailable (503), never a driver error."""
    from support.redis_server import free_port

    repo = SqlAlchemyUserRepository(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    with pytest.raises(StoreUnavailable):
        await repo.get_by_username("alice")
    with pytest.raises(StoreUnavailable):
        await repo.create("alice", "h")
    await repo.close()
