"""Fixtures for the audit tests: fresh desks, appending, verifying and tampering.

Tampering goes through the owner (superuser) connection with the append-only trigger switched
off (``session_replication_role = replica``), as an attacker with database access would. The
``tamper`` fixture puts every chain it touched back afterwards (and checks it verifies again),
so tests that share the session's database never see another test's broken chain.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from propdesk.audit.models import (
    SharedAuditHead,
    SharedAuditRecord,
    TenantAuditHead,
    TenantAuditRecord,
)
from propdesk.audit.service import VerifyResult, record, verify
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext

MakeTenant = Callable[..., Awaitable[TenantContext]]
Desk = TenantContext | None  # None: the shared chain
Change = Callable[[AsyncConnection, Any], Awaitable[None]]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def models(desk: Desk) -> tuple[Any, Any]:
    if desk is None:
        return SharedAuditRecord, SharedAuditHead
    return TenantAuditRecord, TenantAuditHead


@pytest.fixture
async def desk(make_tenant: MakeTenant) -> TenantContext:
    """A freshly provisioned desk (its chain starts with the provisioning record)."""
    return await make_tenant(unique("aud"))


Append = Callable[..., Awaitable[list[int]]]


@pytest.fixture
def append(propdesk_runtime: Runtime) -> Append:
    """``await append(desk, count, action=...)``: one unit of work appending ``count`` records
    to the desk's chain (or the shared one for ``None``); returns their seqs."""

    async def run(desk: Desk, count: int, action: str = "test.changed") -> list[int]:
        seqs = []
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            for i in range(count):
                seqs.append(
                    await record(
                        session,
                        chain="shared" if desk is None else "tenant",
                        actor="system:test",
                        action=action,
                        target=f"thing:{i}",
                        before={"n": i},
                        after={"n": i + 1, "amount": Decimal(f"{i}.25")},
                    )
                )
        return seqs

    return run


VerifyChain = Callable[[Desk], Awaitable[VerifyResult]]


@pytest.fixture
def verify_chain(propdesk_runtime: Runtime) -> VerifyChain:
    """Verify a chain as the application does: the app role, through a (desk) session."""

    async def run(desk: Desk) -> VerifyResult:
        async with propdesk_runtime.db.session(desk) as session:
            return await verify(session, "shared" if desk is None else "tenant")

    return run


async def _owner_tx(runtime: Runtime, desk: Desk) -> AsyncIterator[AsyncConnection]:
    async with runtime.db.owner_engine.begin() as conn:
        # Superuser only: ordinary triggers (the append-only one) do not fire in this transaction.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        if desk is not None:
            conn = await conn.execution_options(schema_translate_map={None: desk.schema})
        yield conn


class Tamperer:
    """Commits one change to a chain's table with the trigger off; remembers the original."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.saved: dict[str | None, tuple[Desk, list[dict[str, Any]], dict[str, Any]]] = {}

    async def _apply(self, desk: Desk, change: Change) -> None:
        record_model, head_model = models(desk)
        key = None if desk is None else desk.slug
        async for conn in _owner_tx(self.runtime, desk):
            if key not in self.saved:
                rows = (await conn.execute(select(record_model.__table__))).mappings().all()
                head = (await conn.execute(select(head_model.__table__))).mappings().one()
                self.saved[key] = (desk, [dict(r) for r in rows], dict(head))
            await change(conn, record_model.__table__)

    async def modify(self, desk: Desk, seq: int, **values: Any) -> None:
        async def change(conn: AsyncConnection, table: Any) -> None:
            result = await conn.execute(update(table).where(table.c.seq == seq).values(**values))
            assert result.rowcount == 1

        await self._apply(desk, change)

    async def remove(self, desk: Desk, seq: int) -> None:
        async def change(conn: AsyncConnection, table: Any) -> None:
            assert (await conn.execute(delete(table).where(table.c.seq == seq))).rowcount == 1

        await self._apply(desk, change)

    async def swap(self, desk: Desk, i: int, j: int) -> None:
        """Reorder: records i and j trade places (every column but seq)."""

        async def change(conn: AsyncConnection, table: Any) -> None:
            found = await conn.execute(select(table).where(table.c.seq.in_([i, j])))
            rows = {row["seq"]: dict(row) for row in found.mappings().all()}
            await conn.execute(delete(table).where(table.c.seq.in_([i, j])))
            await conn.execute(insert(table), [{**rows[j], "seq": i}, {**rows[i], "seq": j}])

        await self._apply(desk, change)

    async def restore(self, verify_chain: VerifyChain) -> None:
        for desk, rows, head in self.saved.values():
            record_model, head_model = models(desk)
            async for conn in _owner_tx(self.runtime, desk):
                await conn.execute(delete(record_model))
                if rows:
                    await conn.execute(insert(record_model), rows)
                await conn.execute(update(head_model).values(seq=head["seq"], hash=head["hash"]))
            restored = await verify_chain(desk)
            assert restored.ok, f"restoring a tampered chain failed: {restored}"


@pytest_asyncio.fixture
async def tamper(propdesk_runtime: Runtime, verify_chain: VerifyChain) -> AsyncIterator[Tamperer]:
    """``await tamper.modify(desk, seq, actor=...)`` / ``.remove(desk, seq)`` /
    ``.swap(desk, i, j)``; every touched chain is restored at teardown."""
    tamperer = Tamperer(propdesk_runtime)
    yield tamperer
    await tamperer.restore(verify_chain)
