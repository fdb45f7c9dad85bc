"""Redis API-key records: a hash per key plus an owner index, written by Lua scripts
(``redis_scripts``) so adds under the per-owner cap and revoke-all are atomic."""

from __future__ import annotations

import json
import secrets
from typing import Any, cast

from nexios_auth_di.stores.protocols import (
    STAMP_TTL,
    APIKeyRecord,
    KeyAdd,
)
from nexios_auth_di.stores.redis import RedisDatabase


def _encode(record: APIKeyRecord) -> str:
    fields = {
        "key_id": record.key_id,
        "prefix": record.prefix,
        "owner": record.owner,
        "secret_hash": record.secret_hash,
        "scopes": list(record.scopes),
        "name": record.name,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "extra": record.extra,
    }
    return json.dumps(fields, separators=(",", ":"))


def _decode(raw: dict[str, str]) -> APIKeyRecord | None:
    if "rec" not in raw:
        return None
    fields = json.loads(raw["rec"])
    fields["scopes"] = tuple(fields["scopes"])
    last_used = raw.get("last_used", "")
    return APIKeyRecord(
        **fields,
        revoked=raw.get("revoked") == "1",
        last_used=float(last_used) if last_used else None,
    )


class RedisAPIKeyStore:
    """``ak:{key_id}`` hash (record JSON + mutable fields), ``ak-owner:{owner}`` set of
    ids and ``ak-stamp:{owner}`` (changed by ``revoke_all``).

    A record with ``expires_at`` is kept ``api_key_retention`` seconds past it, a revoked
    one at most that long after revocation; a live key that never expires (and its owner
    index) is the only state without a TTL, and revoking it gives it one.
    """

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._records = db.key("ak", "")
        self._owners = db.key("ak-owner", "")

    def _put_args(self, record: APIKeyRecord) -> tuple[list[str], list[Any]]:
        retention = self._db.api_key_retention
        ttl: int | None = None
        if record.expires_at is not None:
            ttl = self._db.ttl_ms(record.expires_at + retention)
        if record.revoked:
            ttl = min(ttl or int(retention * 1000), int(retention * 1000))
        last_used = "" if record.last_used is None else repr(float(record.last_used))
        keys = [self._records + record.key_id, self._owners + record.owner]
        args = [
            _encode(record),
            "1" if record.revoked else "0",
            last_used,
            "" if ttl is None else ttl,
            record.key_id,
            self._records,
        ]
        return keys, args

    async def put(self, record: APIKeyRecord) -> None:
        keys, args = self._put_args(record)
        await self._db.script("key_put", keys, args)

    async def get(self, key_id: str) -> APIKeyRecord | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.hgetall(self._records + key_id)
        return _decode(cast(dict[str, str], raw))

    async def list_for_owner(self, owner: str) -> list[APIKeyRecord]:
        client = self._db.client
        with self._db.guard():
            ids = cast(set[str], await client.smembers(self._owners + owner))
            async with client.pipeline(transaction=False) as pipe:
                for key_id in sorted(ids):
                    pipe.hgetall(self._records + key_id)
                raws = await pipe.execute()
        records = [r for r in map(_decode, raws) if r is not None and r.owner == owner]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    async def revoke(self, key_id: str) -> bool:
        retention = int(self._db.api_key_retention * 1000)
        args = [retention, self._owners, self._records]
        return bool(await self._db.script("key_revoke", [self._records + key_id], args))

    async def touch(self, key_id: str, when: float) -> None:
        await self._db.script("key_touch", [self._records + key_id], [repr(float(when))])

    async def add(self, record: APIKeyRecord, *, max_live: int, stamp: str) -> KeyAdd:
        keys, args = self._put_args(record)
        keys.append(self._db.key("ak-stamp", record.owner))
        args += [max_live, stamp, repr(float(self._db.clock())), record.owner]
        result = int(await self._db.script("key_add", keys, args))
        return (KeyAdd.OK, KeyAdd.LIMIT, KeyAdd.STALE)[result]

    async def stamp(self, owner: str) -> str:
        client = self._db.client
        with self._db.guard():
            value = await client.get(self._db.key("ak-stamp", owner))
        return "" if value is None else str(value)

    async def revoke_all(self, owner: str) -> int:
        keys = [self._owners + owner, self._db.key("ak-stamp", owner)]
        args = [
            secrets.token_hex(8),
            int(STAMP_TTL * 1000),
            int(self._db.api_key_retention * 1000),
            repr(float(self._db.clock())),
            self._records,
            owner,
        ]
        return int(await self._db.script("key_revoke_all", keys, args))

    async def count_live(self, owner: str) -> int:
        args = [self._records, owner, repr(float(self._db.clock()))]
        return int(await self._db.script("key_count", [self._owners + owner], args))
