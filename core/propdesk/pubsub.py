"""Change notices between processes (web servers, workers, CLI) over Redis pub/sub."""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

#: Tenant registry changed (created, updated, suspended, resumed).
TENANTS_CHANNEL = "propdesk:tenants"
#: casbin policy changed.
POLICY_CHANNEL = "propdesk:policy"


async def publish(redis_url: str, channel: str, message: str = "changed") -> None:
    """Best effort: a process that misses a notice still refreshes on its own schedule."""
    client = aioredis.from_url(redis_url)
    try:
        await client.publish(channel, message)
    except Exception as exc:
        log.warning("could not publish on %s: %s", channel, exc)
    finally:
        await client.aclose()
