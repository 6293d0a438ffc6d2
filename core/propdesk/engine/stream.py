"""The engine's inbox on Redis: a stream per shard of nudges, each carrying what was journalled.

A nudge names the desk and holds the freshly journalled events (account, seq, canonical body),
so the engine evaluates without reading them back; or an operator event for an account; or
just accounts to look at. PostgreSQL stays the truth: a lost nudge delays nothing longer than
the engine's sweep, and a repeated one is skipped by sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)

#: Entries kept per stream (approximately): nudges are read within milliseconds.
STREAM_LENGTH = 200_000


class Nudge(msgspec.Struct, array_like=True, omit_defaults=True):
    tenant: str
    #: ``(account_id, seq, body)`` of journalled source events.
    events: list[tuple[int, int, str]] = []
    #: ``(account_id, source, fields)`` of operator actions to evaluate (reinstate, extend):
    #: ``fields`` is JSON with action, at, actor, reason and days; ``source`` makes it once.
    operator: list[tuple[int, str, str]] = []
    #: Accounts to reload from PostgreSQL (re-bound to another version, provisioned, ...).
    reload: list[int] = []


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Nudge)


def stream_key(queue_name: str, shard: int) -> str:
    return f"{queue_name}:engine:{shard}"


def shard_of(account_id: int, shards: int) -> int:
    return account_id % shards


class EngineStream:
    """Write and read the engine's nudges. One instance per process; ``close()`` at exit."""

    def __init__(self, redis_url: str, queue_name: str, shards: int = 1) -> None:
        self.redis: Redis = Redis.from_url(redis_url)
        self.queue_name = queue_name
        self.shards = shards

    async def close(self) -> None:
        await self.redis.aclose()

    async def publish(self, nudges: Iterable[tuple[int, Nudge]], *, strict: bool = False) -> None:
        """Send ``(shard, nudge)`` pairs in one round trip. Errors are logged (the sweep finds
        journalled events anyway) unless ``strict``, for nudges nothing else would recover."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for shard, nudge in nudges:
                    pipe.xadd(
                        stream_key(self.queue_name, shard),
                        {"n": _encoder.encode(nudge)},
                        maxlen=STREAM_LENGTH,
                        approximate=True,
                    )
                await pipe.execute()
        except Exception as exc:
            if strict:
                raise
            log.warning("engine.nudge_failed", error=repr(exc))

    async def events(self, tenant: str, fresh: Sequence[tuple[int, int, str]]) -> None:
        by_shard: dict[int, list[tuple[int, int, str]]] = {}
        for item in fresh:
            by_shard.setdefault(shard_of(item[0], self.shards), []).append(item)
        await self.publish((s, Nudge(tenant, events=items)) for s, items in by_shard.items())

    async def operator(
        self, tenant: str, account_id: int, source: str, fields: str, *, strict: bool = False
    ) -> None:
        nudge = Nudge(tenant, operator=[(account_id, source, fields)])
        await self.publish([(shard_of(account_id, self.shards), nudge)], strict=strict)

    async def reload(
        self, tenant: str, account_ids: Sequence[int], *, strict: bool = False
    ) -> None:
        by_shard: dict[int, list[int]] = {}
        for account_id in account_ids:
            by_shard.setdefault(shard_of(account_id, self.shards), []).append(account_id)
        await self.publish(
            ((s, Nudge(tenant, reload=ids)) for s, ids in by_shard.items()), strict=strict
        )

    async def last_id(self, shard: int) -> str:
        """The id of the newest nudge of ``shard`` ("0-0" when none): read after it."""
        newest: list[Any] = await self.redis.xrevrange(stream_key(self.queue_name, shard), count=1)
        return newest[0][0].decode() if newest else "0-0"

    async def read(
        self, shard: int, after: str, *, block_ms: int, count: int = 500
    ) -> tuple[str, list[Nudge]]:
        """Nudges after ``after`` (waiting up to ``block_ms``), and the id to read after next."""
        key = stream_key(self.queue_name, shard)
        answer = await self.redis.xread({key: after}, count=count, block=block_ms)
        nudges: list[Nudge] = []
        for _stream, entries in answer or ():
            for entry_id, fields in entries:
                after = entry_id.decode()
                try:
                    nudges.append(_decoder.decode(fields[b"n"]))
                except (KeyError, msgspec.DecodeError):
                    log.warning("engine.bad_nudge", entry=after)
        return after, nudges
