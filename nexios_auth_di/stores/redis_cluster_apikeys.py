"""Redis API-key records on Redis Cluster.

A key is looked up by id, so its record ``ak:<id>`` (the single-node hash, unchanged)
lives in the id's slot, while the per-owner cap and ``revoke_all`` need every key of the
owner in one place. That place is the owner table ``ak-owner:{u:<owner>}`` (a hash ``id ->
revoked|created_at|expires_at|until_ms``) next to the stamp ``ak-stamp:{u:<owner>}``, one
hash tag: the cap check and the add are one script there, then the record is written.

Order, so a crash between two steps fails closed: ``revoke`` retires the record first,
then its entry (a crash leaves a revoked key counted against the cap until it expires,
never a live key uncounted... except a key whose add crashed before its record: that
entry is dropped by the next ``list_for_owner``). ``revoke_all`` changes the stamp and
reads the live ids in one script (adds in flight then answer STALE), retires each record,
then marks the entries.
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from nexios_auth_di.stores.protocols import STAMP_TTL, APIKeyRecord, KeyAdd
from nexios_auth_di.stores.redis import RedisDatabase
from nexios_auth_di.stores.redis_apikeys import _decode, _encode
from nexios_auth_di.stores.redis_cluster import user_tag

__all__ = ["ClusterAPIKeyStore"]


class ClusterAPIKeyStore:
    """``APIKeyStore`` over a cluster: records by id, owner tables by ``{u:<owner>}``."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._records = db.key("ak", "")

    def record_keys(self, key_id: str) -> list[str]:
        return [self._records + key_id]

    def owner_keys(self, owner: str) -> list[str]:
        """The owner's table and stamp: one hash tag, so one slot."""
        tag = user_tag(owner)
        return [self._db.key("ak-owner", tag), self._db.key("ak-stamp", tag)]

    def _now_ms(self) -> int:
        return int(self._db.clock() * 1000)

    def _ttl(self, record: APIKeyRecord) -> int | None:
        retention = self._db.api_key_retention
        ttl: int | None = None
        if record.expires_at is not None:
            ttl = self._db.ttl_ms(record.expires_at + retention)
        if record.revoked:
            ttl = min(ttl or int(retention * 1000), int(retention * 1000))
        return ttl

    def _entry(self, record: APIKeyRecord, ttl: int | None) -> str:
        expires = "" if record.expires_at is None else repr(float(record.expires_at))
        until = -1 if ttl is None else self._now_ms() + ttl
        return f"{int(record.revoked)}|{float(record.created_at)!r}|{expires}|{until}"

    async def _write(self, record: APIKeyRecord, ttl: int | None) -> None:
        last_used = "" if record.last_used is None else repr(float(record.last_used))
        args = [_encode(record), "1" if record.revoked else "0", last_used, ttl or ""]
        await self._db.script("c_key_write", self.record_keys(record.key_id), args)

    async def _set_entry(self, owner: str, key_id: str, entry: str) -> None:
        args = [self._now_ms(), key_id, entry]
        await self._db.script("c_key_entry", self.owner_keys(owner)[:1], args)

    async def put(self, record: APIKeyRecord) -> None:
        before = await self.get(record.key_id)
        ttl = self._ttl(record)
        await self._set_entry(record.owner, record.key_id, self._entry(record, ttl))
        await self._write(record, ttl)
        if before is not None and before.owner != record.owner:
            await self._set_entry(before.owner, record.key_id, "")

    async def get(self, key_id: str) -> APIKeyRecord | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.hgetall(self._records + key_id)
        return _decode(cast(dict[str, str], raw))

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        table = self.owner_keys(owner)[0]
        client = self._db.client
        with self._db.guard():
            ids = sorted(str(i) for i in await client.hkeys(table))
            async with client.pipeline(transaction=False) as pipe:
                for key_id in ids:
                    pipe.hgetall(self._records + key_id)
                raws = await pipe.execute()
        found = dict(zip(ids, map(_decode, raws), strict=True))
        for key_id, record in found.items():
            if record is None or record.owner != owner:  # gone, moved, or an add that crashed
                await self._set_entry(owner, key_id, "")
        records = [r for r in found.values() if r is not None and r.owner == owner]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    async def _retire(self, key_id: str, owner: str = "") -> tuple[str, int] | None:
        retention = int(self._db.api_key_retention * 1000)
        args = [retention, owner, repr(float(self._db.clock()))]
        done = await self._db.script("c_key_retire", self.record_keys(key_id), args)
        return (str(done[0]), int(done[1])) if done else None

    async def revoke(self, key_id: str) -> bool:
        done = await self._retire(key_id)
        if done is None:
            return False
        owner, _ = done
        retention = int(self._db.api_key_retention * 1000)
        args = [self._now_ms(), retention, key_id]
        await self._db.script("c_key_entries_retired", self.owner_keys(owner)[:1], args)
        return True

    async def touch(self, key_id: str, when: float) -> None:
        await self._db.script("key_touch", self.record_keys(key_id), [repr(float(when))])

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        ttl = self._ttl(record)
        args = [self._now_ms(), record.key_id, self._entry(record, ttl), max_live, stamp]
        result = [
            str(v)
            for v in await self._db.script("c_key_admit", self.owner_keys(record.owner), args)
        ]
        if result[0] != "0":
            return KeyAdd.LIMIT if result[0] == "1" else KeyAdd.STALE
        await self._write(record, ttl)
        trimmed = result[1:]
        if trimmed:
            with self._db.guard():
                for key_id in trimmed:
                    await self._db.client.delete(self._records + key_id)
        return KeyAdd.OK

    async def stamp(self, owner: str) -> str:
        client = self._db.client
        with self._db.guard():
            value = await client.get(self.owner_keys(owner)[1])
        return "" if value is None else str(value)

    async def revoke_all(self, owner: str) -> int:
        args: list[Any] = [self._now_ms(), secrets.token_hex(8), int(STAMP_TTL * 1000)]
        ids = [str(i) for i in await self._db.script("c_key_sweep", self.owner_keys(owner), args)]
        revoked = [key_id for key_id in ids if await self._retire(key_id, owner) is not None]
        if ids:
            retention = int(self._db.api_key_retention * 1000)
            args = [self._now_ms(), retention, *ids]
            await self._db.script("c_key_entries_retired", self.owner_keys(owner)[:1], args)
        return len(revoked)

    async def count_live(self, owner: str) -> int:
        args = [self._now_ms()]
        return int(await self._db.script("c_key_count_live", self.owner_keys(owner)[:1], args))
