"""Appending to and verifying the audit chains (one per tenant schema, one shared).

Appends to one chain serialise on the row lock of its head (``SELECT ... FOR UPDATE``) until
the caller's transaction ends, so seqs are gapless and every record links to the one before,
however many units of work append at once. A transaction that appends to both a tenant chain
and the shared chain should append to the tenant chain first (one lock order, no deadlocks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Row, func, insert, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.chain import Break, ChainHead, ChainWalker, seal
from propdesk.audit.models import (
    SharedAuditHead,
    SharedAuditRecord,
    TenantAuditHead,
    TenantAuditRecord,
)
from propdesk.logs import request_id_var
from propdesk.tenancy.context import TenantNotSet

Chain = Literal["shared", "tenant"]
RecordModel = type[SharedAuditRecord] | type[TenantAuditRecord]
HeadModel = type[SharedAuditHead] | type[TenantAuditHead]

#: Records read per query while verifying: memory stays flat for chains of any length.
VERIFY_BATCH = 2000


def _models(session: AsyncSession, chain: Chain) -> tuple[RecordModel, HeadModel]:
    if chain == "shared":
        return SharedAuditRecord, SharedAuditHead
    if chain == "tenant":
        options = session.sync_session.get_bind().get_execution_options()
        if not (options.get("schema_translate_map") or {}).get(None):
            raise TenantNotSet(
                "the tenant audit chain needs a session bound to a tenant: "
                "use runtime.db.session(tenant) or runtime.db.unit_of_work(tenant)"
            )
        return TenantAuditRecord, TenantAuditHead
    raise ValueError(f"unknown audit chain {chain!r}: use 'shared' or 'tenant'")


def now() -> datetime:
    """The time a record is stamped with (UTC, microseconds: what PostgreSQL keeps)."""
    return datetime.now(UTC)


async def record(
    session: AsyncSession,
    *,
    chain: Chain,
    actor: str,
    action: str,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> int:
    """Append a record to ``chain`` in the session's transaction; return its seq.

    ``actor`` is e.g. ``user:<uuid>``, ``cli:<os user>`` or ``system:worker``; ``target``
    names what changed (``tenant:acme``, ``payout:<id>``). ``before``/``after`` hold plain
    values, Decimals, UUIDs and aware datetimes (never floats). The record commits or rolls
    back with the caller's change; the head stays locked until then.
    """
    record_model, head_model = _models(session, chain)
    # Select columns, not the entity: the identity map would hand back a stale head on a
    # second append in the same session.
    row = (
        await session.execute(
            select(head_model.seq, head_model.hash).where(head_model.id == 1).with_for_update()
        )
    ).one()
    sealed = seal(
        ChainHead(row.seq, row.hash),
        recorded_at=now(),
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        request_id=request_id_var.get(),
    )
    await session.execute(
        insert(record_model).values(
            seq=sealed.seq,
            recorded_at=sealed.recorded_at,
            actor=sealed.actor,
            action=sealed.action,
            target=sealed.target,
            before=null() if sealed.before is None else sealed.before,
            after=null() if sealed.after is None else sealed.after,
            request_id=sealed.request_id,
            prev_hash=sealed.prev_hash,
            hash=sealed.hash,
        )
    )
    await session.execute(
        update(head_model).where(head_model.id == 1).values(seq=sealed.seq, hash=sealed.hash)
    )
    return sealed.seq


async def get_record(session: AsyncSession, chain: Chain, seq: int) -> Row[Any] | None:
    """Record ``seq`` of ``chain`` as a plain row, or None."""
    record_model, _ = _models(session, chain)
    columns = record_model.__table__.c
    return (await session.execute(select(*columns).where(columns.seq == seq))).one_or_none()


async def list_records(
    session: AsyncSession,
    chain: Chain,
    *,
    after_seq: int = 0,
    limit: int = 100,
    action: str | None = None,
    newest_first: bool = False,
    targets: Sequence[str] | None = None,
) -> Sequence[Row[Any]]:
    """Up to ``limit`` records: oldest first after ``after_seq`` (a page cursor), or the
    newest first (``newest_first``). ``action`` keeps only records of that action, ``targets``
    only records about one of those targets (``trader:7``, ``challenge:12``)."""
    record_model, _ = _models(session, chain)
    columns = record_model.__table__.c
    query = select(*columns).where(columns.seq > after_seq)
    if action is not None:
        query = query.where(columns.action == action)
    if targets is not None:
        query = query.where(columns.target.in_(list(targets)))
    order = columns.seq.desc() if newest_first else columns.seq
    return (await session.execute(query.order_by(order).limit(limit))).all()


@dataclass(frozen=True)
class VerifyResult:
    """``checked`` counts the intact records read before the first break (all when ok)."""

    ok: bool
    checked: int
    first_broken: Break | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ok": self.ok, "checked": self.checked}
        if self.first_broken is not None:
            result["first_broken"] = self.first_broken.as_dict()
        return result


async def _records_after(
    session: AsyncSession, model: RecordModel, seq: int, batch: int
) -> AsyncIterator[Sequence[Row[Any]]]:
    # Plain rows (not ORM entities) so nothing accumulates in the session's identity map.
    columns = model.__table__.c
    while True:
        rows = (
            await session.execute(
                select(*columns).where(columns.seq > seq).order_by(columns.seq).limit(batch)
            )
        ).all()
        if not rows:
            return
        yield rows
        seq = rows[-1].seq


async def verify(session: AsyncSession, chain: Chain, *, batch: int = VERIFY_BATCH) -> VerifyResult:
    """Walk ``chain`` in seq order, in batches, and report the first broken record.

    Appends may continue while this runs: the head and the last seq are read in one
    statement (one snapshot) after the walk, and records committed meanwhile are walked too,
    so a concurrent append is never mistaken for tampering.
    """
    record_model, head_model = _models(session, chain)
    walker = ChainWalker()
    while True:
        async for rows in _records_after(session, record_model, walker.last_seq, batch):
            for row in rows:
                if walker.feed(row) is not None:
                    return VerifyResult(False, walker.checked, walker.broken)
        snapshot = (
            await session.execute(
                select(
                    head_model.seq,
                    head_model.hash,
                    select(func.max(record_model.seq)).scalar_subquery().label("last_seq"),
                ).where(head_model.id == 1)
            )
        ).one()
        if snapshot.last_seq is not None and snapshot.last_seq > walker.last_seq:
            continue  # committed while we walked: walk on to the snapshot's end
        broken = walker.finish(ChainHead(snapshot.seq, snapshot.hash))
        return VerifyResult(broken is None, walker.checked, broken)
