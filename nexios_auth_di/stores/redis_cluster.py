"""The Redis stores on Redis Cluster: every script's keys share one hash slot.

A cluster runs a multi-key command only when all its keys are in one slot, so what the
single-node stores do in one script over keys of several slots is split here into
single-slot steps, each ordered so a crash (or a concurrent call) between two steps fails
closed. Key names are the single-node ones except where a tag must group keys
(docs/deployment.md, "Redis Cluster"):

- revocations: unchanged (``rev:jti:<jti>``, ``rev:fam:<family>``, ``rev:nbf:<subject>``,
  one key per script); ``is_refused`` reads its two or three keys with a pipeline, not
  one MGET (they live in different slots);
- refresh families: ``rf:{f:<family>}:...`` (the single-node ``rf:{<family>}:...`` would
  lose its tag for an empty id) and ``rf-subj:<subject>`` unchanged; ending a
  login marks its family revoked *before* it leaves the subject's list;
- sessions: ``sess:<id>`` unchanged, the index becomes ``sess-subj:{u:<subject>}`` next to
  an epoch ``sess-epoch:{u:<subject>}`` that a logout-all bumps: a save lists its id first and
  checks the epoch again after writing, so a save racing a logout-all never survives it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from nexios_auth_di.exceptions import StoreUnavailable
from nexios_auth_di.stores.redis import (
    RedisDatabase,
    RedisRefreshFamilyStore,
    RedisRevocationStore,
)

__all__ = ["ClusterRefreshFamilyStore", "ClusterRevocationStore", "ClusterSessionStore"]

#: index entries beyond this many make a save drop the ids whose session is gone
PRUNE_AT = 32


def user_tag(user: str) -> str:
    """``{u:<user>}``: the hash tag of a user's keys (never empty, so never ignored)."""
    return "{u:" + user + "}"


def _ttl_until(end: float, now: float) -> int:
    return max(1000, int((end - now) * 1000))


class ClusterRevocationStore(RedisRevocationStore):
    """Single-key scripts as on one node; the check is one pipeline over 2-3 slots."""

    async def is_refused(
        self, jti: str, subject: str, issued_at: float, family: str | None = None
    ) -> bool:
        db = self._db
        keys = [db.key("rev", "jti", jti), db.key("rev", "nbf", subject)]
        if family is not None:
            keys.append(db.key("rev", "fam", family))
        client = db.client
        with db.guard():
            async with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.get(key)
                revoked, not_before, *family_revoked = await pipe.execute()
        if revoked is not None or any(v is not None for v in family_revoked):
            return True
        return not_before is not None and issued_at < float(not_before)


class ClusterRefreshFamilyStore(RedisRefreshFamilyStore):
    """Logins end in two steps: mark the family revoked (its slot), then unlist it (the
    subject's slot). A crash between leaves a revoked family listed, which is harmless."""

    def family_tag(self, family: str) -> str:
        """``{f:<family>}``: never an empty tag, whatever the id."""
        return "{f:" + family + "}"

    def login_keys(self, subject: str) -> list[str]:
        return [self._logins(subject)]

    async def _revoke_rows(self, rows: list[Any], now: float) -> list[str]:
        families = [str(f) for f in rows[0::2]]
        for family, end in zip(families, rows[1::2], strict=True):
            key = self.spend_keys(family, "")[0]
            await self._db.script("mark", [key], [_ttl_until(float(end), now)])
        return families

    async def _unlist(self, subject: str, families: list[str]) -> None:
        if families:
            with self._db.guard():
                await self._db.client.zrem(self._logins(subject), *families)

    async def start(self, subject: str, family: str, expires_at: float, limit: int) -> list[str]:
        now = self._db.clock()
        args = [repr(now), family, repr(float(expires_at)), limit]
        rows = await self._db.script("c_login_admit", self.login_keys(subject), args)
        evicted = await self._revoke_rows(list(rows), now)
        await self._unlist(subject, evicted)
        return evicted

    async def end_all(self, subject: str) -> list[str]:
        now = self._db.clock()
        key = self._logins(subject)
        client = self._db.client
        with self._db.guard():
            rows = await client.zrangebyscore(key, f"({now!r}", "+inf", withscores=True)
        flat = [v for row in rows for v in row]
        ended = await self._revoke_rows(flat, now)
        await self._unlist(subject, ended)
        with self._db.guard():
            await client.zremrangebyscore(key, "-inf", repr(now))
        return ended


class ClusterSessionStore:
    """``sess:<id>`` = JSON {s: subject, d: data, e: epoch}; ``sess-subj:{u:<subject>}`` the
    ids, ``sess-epoch:{u:<subject>}`` bumped by each ``delete_for_subject``."""

    def __init__(self, db: RedisDatabase) -> None:
        self._db = db
        self._prefix = db.key("sess", "")

    def subject_keys(self, subject: str) -> list[str]:
        """The subject's index and epoch: one hash tag, so one slot."""
        tag = user_tag(subject)
        return [self._db.key("sess-subj", tag), self._db.key("sess-epoch", tag)]

    def session_keys(self, session_id: str) -> list[str]:
        return [self._prefix + session_id]

    async def load(self, session_id: str) -> dict[str, Any] | None:
        client = self._db.client
        with self._db.guard():
            raw = await client.get(self._prefix + session_id)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)["d"]
        return data

    async def save(
        self,
        session_id: str,
        data: dict[str, Any],
        ttl: float,
        subject: str | None = None,
        *,
        previous: str | None = None,
    ) -> bool:
        ms = max(1, int(ttl * 1000))
        epoch, size = "0", 0
        if subject is not None:  # listed first: a logout-all from now on sees this id
            epoch, size = await self._db.script(
                "c_session_enlist", self.subject_keys(subject), [session_id, ms]
            )
        fields: dict[str, Any] = {"s": subject, "d": data}
        if subject is not None:
            fields["e"] = int(epoch)
        payload = json.dumps(fields, separators=(",", ":"))
        check = [subject or "", str(epoch)]
        key = self._prefix + session_id
        client = self._db.client
        if previous == session_id:
            written = await self._db.script("c_session_rewrite", [key], [*check, payload, ms])
        else:
            written = 1
            if previous:
                written = await self._db.script(
                    "c_session_take", self.session_keys(previous), check
                )
            if written:
                await self._write(key, payload, ms)
        if subject is not None:
            if written:
                written = await self._confirm(subject, session_id, str(epoch), previous)
            else:  # nothing written: unlist the id again
                with self._db.guard():
                    await client.srem(self.subject_keys(subject)[0], session_id)
            if int(size) > PRUNE_AT:
                await self._prune(subject)
        return bool(written)

    async def _write(self, key: str, payload: str, ms: int) -> None:
        with self._db.guard():
            await self._db.client.set(key, payload, px=ms)

    async def _confirm(
        self, subject: str, session_id: str, epoch: str, previous: str | None
    ) -> bool:
        """After writing: no logout-all since ``epoch``, else undo the write."""
        index, epoch_key = self.subject_keys(subject)
        client = self._db.client
        with self._db.guard():
            now = await client.get(epoch_key)
            if (now or "0") == epoch:
                if previous and previous != session_id:
                    await client.srem(index, previous)
                return True
            await client.delete(self._prefix + session_id)
            await client.srem(index, session_id)
        return False

    async def _prune(self, subject: str) -> None:
        index = self.subject_keys(subject)[0]
        client = self._db.client
        with self._db.guard():
            ids = sorted(str(i) for i in await client.smembers(index))
            async with client.pipeline(transaction=False) as pipe:
                for sid in ids:
                    pipe.exists(self._prefix + sid)
                alive = await pipe.execute()
            dead = [sid for sid, n in zip(ids, alive, strict=True) if not n]
            if dead:
                await client.srem(index, *dead)

    async def delete(self, session_id: str) -> None:
        client = self._db.client
        with self._db.guard():
            await client.delete(self._prefix + session_id)

    async def delete_for_subject(self, subject: str, keep: str | None = None) -> int:
        epoch, ids = await self._db.script(
            "c_session_cut", self.subject_keys(subject), [keep or ""]
        )
        count = 0
        for sid in ids:
            count += int(await self._db.script("c_session_drop", self.session_keys(sid), [subject]))
        if keep:
            await self._restamp(keep, subject, int(epoch))
        return count

    async def _restamp(self, session_id: str, subject: str, epoch: int) -> None:
        """The kept session carries the new epoch, so its next save is not refused."""
        key = self._prefix + session_id
        client = self._db.client
        with self._db.guard():
            raw = await client.get(key)
        if raw is None:
            return
        fields = json.loads(raw)
        if fields.get("s") != subject:
            return
        fields["e"] = epoch
        new = json.dumps(fields, separators=(",", ":"))
        await self._db.script("c_swap", [key], [raw, new])  # lost race: its save re-checks


def node_url(url: str, address: str) -> str:
    """``url`` (a plain ``redis://`` or ``rediss://`` one) pointed at ``host:port``."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{address}" if userinfo else address
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


#: the slots of a cluster
SLOTS = 16384


def parse_primaries(nodes: str) -> list[str]:
    """``host:port`` of each healthy primary serving slots, from ``CLUSTER NODES``; a
    ``StoreUnavailable`` unless they serve every slot (a view missing one node's
    revocations must not be trusted)."""
    found, covered = [], 0
    for line in nodes.splitlines():
        fields = line.split()
        flags = set(fields[2].split(",")) if len(fields) > 2 else set()
        if len(fields) < 9 or "master" not in flags:  # no slots: nothing is published there
            continue
        if flags & {"fail", "fail?", "handshake", "noaddr"}:
            continue
        found.append(fields[1].split("@")[0].split(",")[0])
        for span in fields[8:]:
            if not span.startswith("["):  # [slot->-node]: a migration in progress
                low, _, high = span.partition("-")
                covered += int(high or low) - int(low) + 1
    if covered != SLOTS:
        raise StoreUnavailable(f"redis cluster: healthy primaries serve {covered}/{SLOTS} slots")
    return sorted(found)


async def primary_urls(db: RedisDatabase, seeds: list[str]) -> list[str]:
    """The URL of every primary, asked of the first of ``seeds`` (then the configured URL)
    that answers: the revocation view subscribes on each, as each publishes its own keys'
    revocations first to its own subscribers."""
    last: Exception | None = None
    for seed in [*seeds, db.plain_url]:
        client = Redis.from_url(
            seed, socket_timeout=db.socket_timeout, socket_connect_timeout=db.socket_timeout
        )
        try:
            raw = await client.execute_command("CLUSTER", "NODES")  # type: ignore[no-untyped-call]
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
        except (RedisError, OSError) as exc:
            last = exc
            continue
        finally:
            await client.aclose()
        return [node_url(db.plain_url, a) for a in parse_primaries(text)]
    raise StoreUnavailable(f"redis cluster: no node answered CLUSTER NODES ({last!r})")
