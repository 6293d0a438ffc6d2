"""A deployment-wide lock on a name, held by a connection of its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from propdesk.runtime import Runtime


@contextlib.asynccontextmanager
async def exclusive(runtime: Runtime, key: str) -> AsyncIterator[None]:
    """Hold the advisory lock ``key`` for the block, in every process sharing the database.

    The lock lives in a transaction of its own that holds nothing else and ends (rolled back)
    when the block does or the process dies, so a killed worker never leaves it held. Its
    connection comes from the lock pool, not the application's, which the work inside needs:
    many waiters must not hold every pooled connection.
    """
    async with runtime.db.lock_engine.connect() as guard:
        await guard.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )
        yield
