"""The arq queue behind a thin handle: JSON jobs, lazy connection, Redis URLs of both kinds.

Only this package imports arq, so the queue can be swapped without touching services.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool

#: Keys of an arq result record (a job record has none of them).
_RESULT_KEYS = frozenset({"s", "r"})


def redis_settings(url: str, *, conn_retries: int = 5) -> RedisSettings:
    """arq settings for ``redis://host:port/db`` or ``unix:///path/redis.sock`` (embedded)."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = conn_retries
    return settings


def _describe(value: Any) -> Any:
    """Make a job *result* JSON-safe: arq stores exceptions (failures, retries exceeded) there."""
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    return repr(value)


def dumps(data: dict[str, Any]) -> bytes:
    """Serialise an arq job or result record as JSON.

    Job arguments must be JSON values (ids, slugs, strings for Decimals): anything else fails
    at enqueue. Results are lenient, because arq stores the exception of a failed job there.
    """
    if _RESULT_KEYS <= data.keys():
        return json.dumps(data, default=_describe, separators=(",", ":")).encode()
    return json.dumps(data, separators=(",", ":")).encode()


def loads(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


class JobQueue:
    """This process's arq queue, connected on first use. ``await close()`` at exit."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None
        self._lock: asyncio.Lock | None = None

    async def redis(self) -> ArqRedis:
        if self._pool is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._pool is None:
                    # No connection retries: callers (after-commit enqueues) must fail fast and
                    # leave the event to the outbox sweep.
                    self._pool = await create_pool(
                        redis_settings(self.redis_url, conn_retries=0),
                        job_serializer=dumps,
                        job_deserializer=loads,
                        default_queue_name=self.queue_name,
                    )
        return self._pool

    async def enqueue(
        self,
        function: str,
        *args: Any,
        job_id: str | None = None,
        defer_seconds: float | None = None,
    ) -> bool:
        """Queue ``function(*args)``; False when a job with ``job_id`` is already queued,
        running, or its result is still kept (arq's dedupe window)."""
        pool = await self.redis()
        job = await pool.enqueue_job(function, *args, _job_id=job_id, _defer_by=defer_seconds)
        return job is not None

    async def purge(self) -> None:
        """Forget everything on the queue: its jobs, and every key named under it (the engine's
        streams and leases). Only for a queue nobody else uses (a benchmark's, the demo's)."""
        redis = await self.redis()
        jobs = await redis.zrange(self.queue_name, 0, -1)
        keys = [self.queue_name.encode(), *(b"arq:job:" + job for job in jobs)]
        keys += [key async for key in redis.scan_iter(match=f"{self.queue_name}:*")]
        for start in range(0, len(keys), 1_000):
            await redis.delete(*keys[start : start + 1_000])

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose(close_connection_pool=True)
