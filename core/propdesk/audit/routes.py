"""The desk's audit trail over HTTP: list, read one record, verify the chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import get
from litestar.params import FromPath, Parameter

from propdesk.access.permissions import requires
from propdesk.audit import service
from propdesk.audit.chain import ChainRecord
from propdesk.errors import NotFound
from propdesk.http.deps import SessionDep, TenantDep


@dataclass
class AuditPage:
    """``next_after_seq`` is the cursor of the next page (None on the last page)."""

    records: list[ChainRecord]
    next_after_seq: int | None


@dataclass
class BrokenRecord:
    seq: int
    kind: str
    reason: str


@dataclass
class ChainCheck:
    chain: str
    ok: bool
    checked: int
    first_broken: BrokenRecord | None = None


@get("/api/audit", opt=requires("audit", "read"), operation_id="listAuditRecords")
async def list_audit_records(
    session: SessionDep,
    tenant: TenantDep,
    after_seq: Annotated[int, Parameter(ge=0, description="Return records after this seq.")] = 0,
    limit: Annotated[int, Parameter(ge=1, le=500, description="At most this many.")] = 100,
    action: Annotated[
        str | None, Parameter(description="Only records of this action, e.g. tenant.suspended.")
    ] = None,
) -> AuditPage:
    """The desk's audit records in chain order, a page at a time."""
    rows = await service.list_records(
        session, "tenant", after_seq=after_seq, limit=limit, action=action
    )
    records = [ChainRecord.of(row) for row in rows]
    return AuditPage(records, records[-1].seq if len(records) == limit else None)


@get("/api/audit/verify", opt=requires("audit", "read"), operation_id="verifyAuditChain")
async def verify_audit_chain(session: SessionDep, tenant: TenantDep) -> ChainCheck:
    """Re-hash the desk's whole chain and name the first broken record, if any."""
    result = await service.verify(session, "tenant")
    broken = result.first_broken
    return ChainCheck(
        chain=tenant.schema,
        ok=result.ok,
        checked=result.checked,
        first_broken=BrokenRecord(broken.seq, broken.kind, broken.reason) if broken else None,
    )


@get("/api/audit/{seq:int}", opt=requires("audit", "read"), operation_id="getAuditRecord")
async def get_audit_record(
    session: SessionDep, tenant: TenantDep, seq: FromPath[int]
) -> ChainRecord:
    """One audit record by its seq."""
    row = await service.get_record(session, "tenant", seq)
    if row is None:
        raise NotFound(f"desk {tenant.slug!r} has no audit record {seq}")
    return ChainRecord.of(row)


ROUTES = [list_audit_records, verify_audit_chain, get_audit_record]
