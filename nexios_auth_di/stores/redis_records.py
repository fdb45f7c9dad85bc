"""Redis one-time and credential stores, on the shared ``RedisDatabase``.

Every atomic step touches **one key**, so each works unchanged on Redis Cluster:

- one-time: ``once:c:<key>`` claims (``SET NX PX``) and ``once:v:<key>`` values (``SET PX``,
  ``GETDEL``);
- credentials: ``cred:<kind>:<id>`` holds the record as JSON (``SET NX`` adds it; small
  single-key scripts compare-and-set the version, or the owner before deleting), and
  ``credu:<user>`` is a zset index of the user's records (scored by creation time).

The index is written after the record and pruned when read, so a crash between the two
steps leaves at most an index entry pointing at nothing (ignored, then removed), never a
record a lookup by id would miss. The index expires with its longest-lived record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from redis.commands.core import AsyncScript

from nexios_auth_di.stores.memory import MIN_MARKER_TTL
from nexios_auth_di.stores.protocols import CredentialRecord
from nexios_auth_di.stores.redis import RedisDatabase

__all__ = ["RedisCredentialStore", "RedisOneTimeStore"]

#: KEYS[1] record; ARGV[1] expected version, ARGV[2] new JSON, ARGV[3] PX ms or "" (none)
_UPDATE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if tonumber(cjson.decode(raw)['version']) ~= tonumber(ARGV[1]) then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""
#: KEYS[1] record; ARGV[1] the JSON read, ARGV[2] its replacement (TTL kept)
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""
#: KEYS[1] record; ARGV[1] owner or "" (any)
_DELETE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if ARGV[1] ~= '' and cjson.decode(raw)['user_id'] ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
#: Index entries beyond this many trigger a prune of dead ones on ``add``.
PRUNE_AT = 32


class RedisOneTimeStore:
    """Claims and one-time values: one key each, with the entry's TTL."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db

    def _ms(self, ttl: float) -> int:
        return max(1, int(max(float(ttl), MIN_MARKER_TTL) * 1000))

    async def claim(self, key: str, ttl: float) -> bool:
        client = self._db.client
        with self._db.guard():
            return bool(
                await client.set(self._db.key("once", "c", key), "1", nx=True, px=self._ms(ttl))
            )

    async def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        client = self._db.client
        with self._db.guard():
            await client.set(self._db.key("once", "v", key), json.dumps(value), px=self._ms(ttl))

    async def take(self, key: str) -> dict[str, Any] | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.getdel(self._db.key("once", "v", key))
        if raw is None:
            return None
        value = json.loads(raw)
        return value if isinstance(value, dict) else None


def _member(kind: str, credential_id: str) -> str:
    return json.dumps([kind, credential_id])


class RedisCredentialStore:
    """Records as JSON strings under ``cred:<kind>:<id>``, indexed by ``credu:<user>``."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._scripts: dict[str, AsyncScript] = {}
        self._client: Any = None

    def _key(self, kind: str, credential_id: str) -> str:
        return self._db.key("cred", kind, credential_id)

    def _index(self, user_id: str) -> str:
        return self._db.key("credu", user_id)

    async def _run(self, name: str, source: str, keys: list[str], args: list[Any]) -> Any:
        client = self._db.client
        if client is not self._client:  # a new client after close(): register again
            self._client, self._scripts = client, {}
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = client.register_script(source)
        with self._db.guard():
            return await script(keys=keys, args=args, client=client)

    def _px(self, record: CredentialRecord) -> int | None:
        return None if record.expires_at is None else self._db.ttl_ms(record.expires_at)

    async def add(self, record: CredentialRecord) -> bool:
        if record.expires_at is not None and record.expires_at <= self._db.clock():
            return False  # already dead: nothing a lookup could ever return
        client, px = self._db.client, self._px(record)
        raw = json.dumps(asdict(record))
        with self._db.guard():
            if not await client.set(
                self._key(record.kind, record.credential_id), raw, nx=True, px=px
            ):
                return False
            index = self._index(record.user_id)
            async with client.pipeline(transaction=False) as pipe:
                pipe.zadd(index, {_member(record.kind, record.credential_id): record.created_at})
                pipe.pttl(index)
                pipe.zcard(index)
                _, left, size = await pipe.execute()
            await self._extend(index, left, px)
        if size > PRUNE_AT:
            await self._entries(record.user_id, None)  # reading prunes the dead entries
        return True

    async def _extend(self, index: str, left: int, px: int | None) -> None:
        """Keep the index at least as long as its longest-lived record."""
        client = self._db.client
        if px is None:
            await client.persist(index)
        elif left != -1 and left < px:  # -1: already without expiry
            await client.pexpire(index, px)

    async def get(self, kind: str, credential_id: str) -> CredentialRecord | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.get(self._key(kind, credential_id))
        return None if raw is None else CredentialRecord(**json.loads(raw))

    async def _entries(
        self, user_id: str, kind: str | None
    ) -> list[tuple[str, CredentialRecord | None]]:
        """``(member, record or None)`` for the user's index; drops dead entries."""
        client, index = self._db.client, self._index(user_id)
        with self._db.guard():
            members = [str(m) for m in await client.zrange(index, 0, -1)]
            chosen = [m for m in members if kind is None or json.loads(m)[0] == kind]
            if not chosen:
                return []
            async with client.pipeline(transaction=False) as pipe:
                for member in chosen:
                    pipe.get(self._key(*json.loads(member)))
                raws = await pipe.execute()
            found = [
                (m, None if r is None else CredentialRecord(**json.loads(r)))
                for m, r in zip(chosen, raws, strict=True)
            ]
            dead = [m for m, r in found if r is None or r.user_id != user_id]
            if dead:
                await client.zrem(index, *dead)
        return [(m, r) for m, r in found if r is not None and r.user_id == user_id]

    async def list_for_user(self, user_id: str, kind: str | None = None) -> list[CredentialRecord]:
        records = [r for _, r in await self._entries(user_id, kind) if r is not None]
        records.sort(key=lambda r: (r.created_at, r.kind, r.credential_id))
        return records

    async def update(self, record: CredentialRecord) -> bool:
        if record.expires_at is not None and record.expires_at <= self._db.clock():
            return False
        stored = await self.get(record.kind, record.credential_id)
        if stored is None or stored.user_id != record.user_id:
            return False
        stored.data, stored.last_used = record.data, record.last_used
        stored.expires_at, stored.version = record.expires_at, record.version + 1
        px = self._px(stored)
        args = [record.version, json.dumps(asdict(stored)), "" if px is None else px]
        key = self._key(record.kind, record.credential_id)
        if not int(await self._run("update", _UPDATE, [key], args)):
            return False
        index = self._index(record.user_id)
        with self._db.guard():
            await self._extend(index, await self._db.client.pttl(index), px)
        return True

    async def touch(self, kind: str, credential_id: str, when: float) -> None:
        key = self._key(kind, credential_id)
        client = self._db.client
        with self._db.guard():
            raw = await client.get(key)
        if raw is None:
            return
        fields = json.loads(raw)
        fields["last_used"] = when
        await self._run("swap", _SWAP, [key], [raw, json.dumps(fields)])  # lost race: skip

    async def delete(self, kind: str, credential_id: str, *, user_id: str | None = None) -> bool:
        stored = await self.get(kind, credential_id) if user_id is None else None
        owner = user_id if user_id is not None else (stored.user_id if stored else None)
        if owner is None:
            return False
        key = self._key(kind, credential_id)
        if not int(await self._run("delete", _DELETE, [key], [user_id or ""])):
            return False
        with self._db.guard():
            await self._db.client.zrem(self._index(owner), _member(kind, credential_id))
        return True

    async def delete_for_user(self, user_id: str, kind: str | None = None) -> int:
        members = [m for m, _ in await self._entries(user_id, kind)]
        count = 0
        for member in members:
            key = self._key(*json.loads(member))
            count += int(await self._run("delete", _DELETE, [key], [user_id]))
        if members:  # only what was handled: a record added meanwhile keeps its entry
            with self._db.guard():
                await self._db.client.zrem(self._index(user_id), *members)
        return count
