"""The audit chains on real PostgreSQL: appends, concurrency, the app role's limits, tampering.

Fixtures (desk, append, verify_chain, tamper) are in this folder's conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from propdesk.audit.chain import record_hash
from propdesk.audit.models import (
    SharedAuditHead,
    SharedAuditRecord,
    TenantAuditHead,
    TenantAuditRecord,
)
from propdesk.audit.service import VerifyResult, get_record, list_records, record, verify
from propdesk.cli.audit import audit
from propdesk.embedded import ServiceUrls
from propdesk.errors import NotFound
from propdesk.logs import request_id_var
from propdesk.runtime import Runtime
from propdesk.settings import get_settings
from propdesk.tenancy.context import TenantContext

# Fixture types (the fixtures themselves are in conftest.py).
MakeTenant = Callable[..., Awaitable[TenantContext]]
Append = Callable[..., Awaitable[list[int]]]
VerifyChain = Callable[[TenantContext | None], Awaitable[VerifyResult]]
Tamperer = Any  # conftest.Tamperer: .modify(desk, seq, **values), .remove(desk, seq), .swap(...)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


# --- appending ------------------------------------------------------------------------------


async def test_a_record_keeps_every_column_and_rehashes_after_jsonb(
    propdesk_runtime: Runtime, desk: TenantContext, verify_chain: VerifyChain
) -> None:
    payout_id = uuid.uuid4()
    at = datetime(2025, 3, 1, 17, 30, 0, 250, tzinfo=timezone(timedelta(hours=2)))
    token = request_id_var.set("req-audit-1")
    try:
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            head_before = await session.scalar(select(TenantAuditHead.hash))
            seq = await record(
                session,
                chain="tenant",
                actor="user:00000000-0000-0000-0000-000000000007",
                action="payout.approved",
                target=f"payout:{payout_id}",
                before={"status": "requested", "amount": Decimal("1250.10")},
                after={
                    "status": "approved",
                    "amount": Decimal("1250.10"),
                    "payout": payout_id,
                    "due": at,
                    "notes": ["Zürich desk ✓", {"big": 2**62, "ok": True, "none": None}],
                },
            )
    finally:
        request_id_var.reset(token)
    async with propdesk_runtime.db.session(desk) as session:
        row = await get_record(session, "tenant", seq)
    assert row is not None
    assert (row.actor, row.action, row.target, row.request_id) == (
        "user:00000000-0000-0000-0000-000000000007",
        "payout.approved",
        f"payout:{payout_id}",
        "req-audit-1",
    )
    assert row.before == {"status": "requested", "amount": "1250.10"}
    assert row.after == {
        "status": "approved",
        "amount": "1250.10",
        "payout": str(payout_id),
        "due": "2025-03-01T15:30:00.000250+00:00",
        "notes": ["Zürich desk ✓", {"big": 2**62, "ok": True, "none": None}],
    }
    assert row.prev_hash == head_before
    assert abs(row.recorded_at - datetime.now(UTC)) < timedelta(minutes=1)
    # What JSONB gave back hashes to the stored hash: the chain survives its own storage.
    assert row.hash == record_hash(
        row.prev_hash,
        row.seq,
        row.recorded_at,
        row.actor,
        row.action,
        row.target,
        row.before,
        row.after,
        row.request_id,
    )
    result = await verify_chain(desk)
    assert result.ok and result.checked == seq


async def test_the_shared_chain_appends_after_its_head(
    propdesk_runtime: Runtime, append: Append, verify_chain: VerifyChain
) -> None:
    async with propdesk_runtime.db.session() as session:
        start = await session.scalar(select(SharedAuditHead.seq))
    assert await append(None, 3) == [start + 1, start + 2, start + 3]
    async with propdesk_runtime.db.session() as session:
        assert await session.scalar(select(SharedAuditHead.seq)) == start + 3
    result = await verify_chain(None)
    assert result.ok and result.checked == start + 3


async def test_a_rolled_back_change_leaves_no_record_and_no_gap(
    propdesk_runtime: Runtime, desk: TenantContext, append: Append, verify_chain: VerifyChain
) -> None:
    (first,) = await append(desk, 1)
    with pytest.raises(RuntimeError, match="the change failed"):
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await record(session, chain="tenant", actor="system:test", action="x", target="y")
            raise RuntimeError("the change failed")
    assert await append(desk, 1) == [first + 1]
    assert (await verify_chain(desk)).ok


async def test_the_tenant_chain_refuses_a_session_without_a_desk(
    propdesk_runtime: Runtime,
) -> None:
    from propdesk.tenancy.context import TenantNotSet

    async with propdesk_runtime.db.session() as session:
        with pytest.raises(TenantNotSet, match="bound to a tenant"):
            await record(session, chain="tenant", actor="system:test", action="x", target="y")


async def test_concurrent_appends_make_one_gapless_valid_chain(
    propdesk_runtime: Runtime, desk: TenantContext, verify_chain: VerifyChain
) -> None:
    async with propdesk_runtime.db.session(desk) as session:
        start = await session.scalar(select(TenantAuditHead.seq))

    async def unit_of_work(n: int) -> tuple[int, int]:
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            first = await record(
                session, chain="tenant", actor="system:test", action="step.one", target=f"w:{n}"
            )
            await asyncio.sleep(0.001)  # let the others pile up on the head lock
            second = await record(
                session, chain="tenant", actor="system:test", action="step.two", target=f"w:{n}"
            )
        return first, second

    results = await asyncio.gather(*(unit_of_work(n) for n in range(50)))
    seqs = sorted(s for pair in results for s in pair)
    assert seqs == list(range(start + 1, start + 101))
    # Each unit of work held the head until commit: its two records are neighbours.
    assert all(second == first + 1 for first, second in results)
    result = await verify_chain(desk)
    assert result.ok and result.checked == start + 100


async def test_list_records_pages_in_chain_order_and_filters_by_action(
    propdesk_runtime: Runtime, desk: TenantContext, append: Append
) -> None:
    seqs = await append(desk, 5, action="page.test")
    async with propdesk_runtime.db.session(desk) as session:
        page = await list_records(session, "tenant", after_seq=seqs[0], limit=2, action="page.test")
        newest = await list_records(session, "tenant", limit=2, newest_first=True)
    assert [r.seq for r in page] == seqs[1:3]
    assert [r.seq for r in newest] == [seqs[4], seqs[3]]


# --- the database refuses changes -----------------------------------------------------------


@pytest.mark.parametrize("chain", ["tenant", "shared"])
async def test_the_app_role_may_not_update_or_delete_audit_rows(
    propdesk_runtime: Runtime,
    desk: TenantContext,
    chain: str,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    target = desk if chain == "tenant" else None
    await append(target, 1)
    record_model = TenantAuditRecord if target is not None else SharedAuditRecord
    for statement in (
        update(record_model).where(record_model.seq == 1).values(actor="user:mallory"),
        delete(record_model).where(record_model.seq == 1),
    ):
        with pytest.raises(DBAPIError, match="permission denied for table audit_log"):
            async with propdesk_runtime.db.unit_of_work(target) as session:
                await session.execute(statement)
    with pytest.raises(DBAPIError, match="permission denied for table audit_log"):
        async with propdesk_runtime.db.unit_of_work() as session:
            await session.execute(text("TRUNCATE propdesk.audit_log"))
    assert (await verify_chain(target)).ok


async def test_even_the_owner_meets_the_append_only_trigger(
    propdesk_runtime: Runtime, desk: TenantContext
) -> None:
    for statement in (
        update(TenantAuditRecord).where(TenantAuditRecord.seq == 1).values(actor="x:y"),
        delete(TenantAuditRecord).where(TenantAuditRecord.seq == 1),
    ):
        with pytest.raises(DBAPIError, match="audit records are append-only"):
            async with propdesk_runtime.db.owner_engine.begin() as conn:
                conn = await conn.execution_options(schema_translate_map={None: desk.schema})
                await conn.execute(statement)


# --- tampering is detected and named --------------------------------------------------------


async def test_a_modified_record_is_named(
    propdesk_runtime: Runtime,
    desk: TenantContext,
    tamper: Tamperer,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    seqs = await append(desk, 5)
    await tamper.modify(desk, seqs[2], after={"n": 3, "amount": "999999.25"})
    result = await verify_chain(desk)
    assert not result.ok and result.first_broken is not None
    assert (result.first_broken.seq, result.first_broken.kind) == (seqs[2], "hash")
    assert result.first_broken.reason == "hash mismatch — the record was modified"
    assert result.checked == seqs[2] - 1


async def test_a_record_rewritten_with_a_fresh_hash_breaks_the_next_link(
    propdesk_runtime: Runtime,
    desk: TenantContext,
    tamper: Tamperer,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    seqs = await append(desk, 4)
    async with propdesk_runtime.db.session(desk) as session:
        row = await get_record(session, "tenant", seqs[1])
    assert row is not None
    forged = record_hash(
        row.prev_hash, row.seq, row.recorded_at, "user:mallory", row.action, row.target,
        row.before, row.after, row.request_id,
    )  # fmt: skip
    await tamper.modify(desk, seqs[1], actor="user:mallory", hash=forged)
    broken = (await verify_chain(desk)).first_broken
    assert broken is not None and (broken.seq, broken.kind) == (seqs[2], "link")


async def test_a_deleted_middle_record_is_named(
    propdesk_runtime: Runtime,
    desk: TenantContext,
    tamper: Tamperer,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    seqs = await append(desk, 5)
    await tamper.remove(desk, seqs[2])
    broken = (await verify_chain(desk)).first_broken
    assert broken is not None and (broken.seq, broken.kind) == (seqs[2], "missing")


async def test_a_deleted_last_record_is_detected(
    propdesk_runtime: Runtime,
    desk: TenantContext,
    tamper: Tamperer,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    seqs = await append(desk, 3)
    await tamper.remove(desk, seqs[-1])
    broken = (await verify_chain(desk)).first_broken
    assert broken is not None and (broken.seq, broken.kind) == (seqs[-1], "head")
    assert "last record was deleted" in broken.reason


async def test_two_swapped_records_are_named(
    propdesk_runtime: Runtime,
    desk: TenantContext,
    tamper: Tamperer,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    seqs = await append(desk, 5)
    await tamper.swap(desk, seqs[1], seqs[3])
    broken = (await verify_chain(desk)).first_broken
    assert broken is not None and (broken.seq, broken.kind) == (seqs[1], "link")


async def test_tampering_with_the_shared_chain_is_named(
    propdesk_runtime: Runtime, tamper: Tamperer, append: Append, verify_chain: VerifyChain
) -> None:
    seqs = await append(None, 3)
    await tamper.modify(None, seqs[1], target="tenant:someone-else")
    broken = (await verify_chain(None)).first_broken
    assert broken is not None and (broken.seq, broken.kind) == (seqs[1], "hash")


async def test_desk_chains_are_independent(
    propdesk_runtime: Runtime,
    make_tenant: MakeTenant,
    tamper: Tamperer,
    append: Append,
    verify_chain: VerifyChain,
) -> None:
    a, b = await make_tenant(unique("auda")), await make_tenant(unique("audb"))
    seqs_a = await append(a, 3)
    await append(b, 3)
    await tamper.remove(a, seqs_a[0])
    broken = (await verify_chain(a)).first_broken
    assert broken is not None and broken.seq == seqs_a[0]
    assert (await verify_chain(b)).ok
    assert (await verify_chain(None)).ok


async def test_verify_reads_a_long_chain_in_batches(
    propdesk_runtime: Runtime, desk: TenantContext, tamper: Tamperer, append: Append
) -> None:
    seqs = await append(desk, 30)
    async with propdesk_runtime.db.session(desk) as session:
        assert (await verify(session, "tenant", batch=7)).checked == seqs[-1]
    await tamper.modify(desk, seqs[20], action="payout.reversed")
    async with propdesk_runtime.db.session(desk) as session:
        result = await verify(session, "tenant", batch=7)
    assert result.first_broken is not None and result.first_broken.seq == seqs[20]


async def test_verify_does_not_mistake_concurrent_appends_for_tampering(
    propdesk_runtime: Runtime, desk: TenantContext, append: Append, verify_chain: VerifyChain
) -> None:
    await append(desk, 20)
    done = asyncio.Event()

    async def keep_appending() -> None:
        while not done.is_set():
            await append(desk, 1)

    writers = [asyncio.create_task(keep_appending()) for _ in range(4)]
    try:
        results = [await verify_chain(desk) for _ in range(30)]
    finally:
        done.set()
        await asyncio.gather(*writers)
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert results[-1].checked > results[0].checked  # the writers really did write meanwhile


# --- the command line -----------------------------------------------------------------------


def cli_env(database_url: str, urls: ServiceUrls, tmp_path: Path) -> dict[str, str]:
    return {
        "PROPDESK_DATABASE_URL": database_url,
        "PROPDESK_REDIS_URL": urls.redis_url,
        "PROPDESK_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }


async def run_propdesk(env: dict[str, str], *args: str) -> tuple[int, str]:
    """``propdesk ARGS`` in a child process, exactly as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from propdesk.cli import main; main()", *args,
        env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


def _invoke(env: dict[str, str], args: tuple[str, ...]) -> Result:
    get_settings.cache_clear()  # settings are read from the environment once per process
    try:
        return CliRunner(env=env).invoke(audit, list(args))
    finally:
        get_settings.cache_clear()


async def run_audit_command(env: dict[str, str], *args: str) -> Result:
    """``propdesk audit ARGS`` in this process (a thread: the command runs its own loop)."""
    return await asyncio.to_thread(_invoke, env, args)


async def test_cli_verify_exits_1_and_names_the_broken_record(
    propdesk_database_url: str,
    propdesk_urls: ServiceUrls,
    make_tenant: MakeTenant,
    tamper: Tamperer,
    tmp_path: Path,
    append: Append,
) -> None:
    env = cli_env(propdesk_database_url, propdesk_urls, tmp_path)
    a, b = await make_tenant(unique("clia")), await make_tenant(unique("clib"))
    seqs = await append(a, 4, action="cli.test")
    b_seqs = await append(b, 2)

    intact = await run_audit_command(env, "verify", "--tenant", a.slug)
    assert (intact.exit_code, intact.output) == (0, f"{a.schema}: {seqs[-1]} records, intact\n")

    await tamper.modify(a, seqs[1], before={"n": 1, "forged": True})
    broken_line = f"{a.schema}: BROKEN at record {seqs[1]}: hash mismatch — the record was modified"
    only_a = await run_audit_command(env, "verify", "--tenant", a.slug)
    assert (only_a.exit_code, only_a.output) == (1, broken_line + "\n")
    only_b = await run_audit_command(env, "verify", "--tenant", b.slug)
    assert (only_b.exit_code, only_b.output) == (0, f"{b.schema}: {b_seqs[-1]} records, intact\n")

    code, out = await run_propdesk(env, "audit", "verify")
    lines = out.splitlines()
    assert code == 1, out
    assert lines[0].startswith("propdesk (shared): ") and lines[0].endswith(" records, intact")
    assert broken_line in lines
    assert f"{b.schema}: {b_seqs[-1]} records, intact" in lines

    unknown = await run_audit_command(env, "verify", "--tenant", "nosuchdesk")
    assert isinstance(unknown.exception, NotFound)
    assert "no desk with slug 'nosuchdesk'" in unknown.exception.detail

    show = await run_audit_command(
        env, "show", "--tenant", a.slug, "--limit", "2", "--action", "cli.test"
    )
    assert show.exit_code == 0, show.output
    out = show.output
    assert out.count("cli.test") == 2 and f"thing:{len(seqs) - 1}" in out
