"""Polling platforms: each trading account's new events into its journal, with a durable cursor.

For every desk, every account that still trades is asked for its events after its cursor
(``PlatformAdapter.events``). What comes back is journalled with consecutive seqs and the new
cursor in one transaction, so a crash between the two is impossible: a repeated poll after a
crash asks from the old cursor and the journal's event keys drop what it already has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from propdesk.engine import store
from propdesk.engine.ingest import append, engine_stream, prepare
from propdesk.platforms.contract import PlatformError
from propdesk.plugins.desk import desk_platform

if TYPE_CHECKING:
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

#: Accounts polled at once per desk (a platform's manager API takes a few connections).
CONCURRENCY = 8
#: Polls of one account per round when the platform says more is waiting.
MAX_BATCHES = 20


async def trading_accounts(runtime: Runtime, tenant: TenantContext) -> list[tuple[int, str, str]]:
    """``(account_id, platform, login)`` of the desk's accounts that still trade."""
    async with runtime.db.session(tenant) as session:
        rows = await session.execute(
            store.sql(
                tenant.schema,
                "SELECT a.id, a.platform, a.login FROM {s}.trading_accounts a "
                "JOIN {s}.account_state s ON s.account_id = a.id "
                "WHERE s.status IN ('not_opened', 'active', 'paused') ORDER BY a.id",
            )
        )
        return [(r[0], r[1], r[2]) for r in rows.all()]


async def poll_account(
    runtime: Runtime, tenant: TenantContext, account_id: int, platform: str, login: str
) -> int:
    """Journal what the platform has for one account after its cursor; events journalled."""
    adapter = desk_platform(runtime.host, tenant, platform)
    journalled = 0
    for _ in range(MAX_BATCHES):
        async with runtime.db.session(tenant) as session:
            cursor_row = (
                await session.execute(
                    store.sql(
                        tenant.schema,
                        "SELECT cursor, next_seq FROM {s}.platform_cursors WHERE account_id = :a",
                    ),
                    {"a": account_id},
                )
            ).first()
        cursor, next_seq = (cursor_row[0], cursor_row[1]) if cursor_row else (None, 1)
        batch = await adapter.events(login, cursor)
        items = [prepare(account_id, next_seq + i, event) for i, event in enumerate(batch.events)]
        async with runtime.db.unit_of_work(tenant) as session:
            result = await append(session, items)
            await session.execute(
                store.sql(
                    tenant.schema,
                    "INSERT INTO {s}.platform_cursors (account_id, cursor, next_seq, polled_at) "
                    "VALUES (:a, :c, :n, :t) ON CONFLICT (account_id) DO UPDATE "
                    "SET cursor = excluded.cursor, next_seq = excluded.next_seq, "
                    "polled_at = excluded.polled_at",
                ),
                {
                    "a": account_id,
                    "c": batch.cursor,
                    "n": next_seq + len(items),
                    "t": datetime.now(UTC),
                },
            )
        if result.fresh:
            await engine_stream(runtime).events(tenant.slug, result.fresh)
        journalled += result.accepted
        if not batch.more:
            break
    return journalled


async def poll_desk(runtime: Runtime, tenant: TenantContext) -> int:
    """One round over the desk's trading accounts; errors are logged per account."""
    accounts = await trading_accounts(runtime, tenant)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(account: Sequence[object]) -> int:
        account_id, platform, login = account
        async with limit:
            try:
                return await poll_account(runtime, tenant, account_id, platform, login)  # type: ignore[arg-type]
            except PlatformError as exc:
                log.warning("engine.poll_failed", account_id=account_id, error=str(exc))
            except Exception:
                log.exception("engine.poll_crashed", account_id=account_id)
            return 0

    return sum(await asyncio.gather(*(one(a) for a in accounts)))
