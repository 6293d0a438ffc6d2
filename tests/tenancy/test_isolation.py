"""Two desks with identical ids never see each other's rows, even over a tiny shared pool.

10,000 interleaved HTTP requests alternate between desks A and B over a pool of 4 connections;
reads ask for record ids both desks have, writes append to the desk's audit chain. Then 10,000
interleaved units of work probe which schema each query really touched (``tableoid``).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import literal_column, select

from propdesk.access import service as access
from propdesk.audit.models import TenantAuditRecord
from propdesk.audit.service import list_records, verify
from propdesk.db.engine import Database
from propdesk.http.app import create_app
from propdesk.http.testing import app_client
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext

REQUESTS = 10_000
PROBES = 10_000
CONCURRENCY = 8


@pytest_asyncio.fixture(loop_scope="session")
async def small_pool(
    propdesk_runtime: Runtime, propdesk_database_url: str
) -> AsyncIterator[Runtime]:
    db = Database(propdesk_database_url, app_role=propdesk_runtime.settings.app_role, pool_size=4)
    yield Runtime(propdesk_runtime.settings, propdesk_runtime.host, db, propdesk_runtime.redis_url)
    await db.dispose()


async def operator_token(runtime: Runtime) -> tuple[str, str]:
    async with runtime.db.unit_of_work() as session:
        user = await access.create_user(
            session,
            email="iso-operator@example.test",
            password="correct horse battery staple",
            actor="test",
        )
        await access.grant_role(
            session,
            user=user,
            role="operator",
            tenant_slug=None,
            actor="test",
            redis_url=runtime.redis_url,
        )
        _, raw = await access.create_api_token(
            session, user=user, name="iso", tenant_slug=None, expires_in_days=None, actor="test"
        )
        member = await access.create_user(
            session,
            email="iso-member@example.test",
            password="correct horse battery staple",
            actor="test",
        )
    return raw, str(member.id)


async def test_ten_thousand_interleaved_requests_never_cross(
    small_pool: Runtime, make_tenant
) -> None:
    desks = [await make_tenant("iso_a"), await make_tenant("iso_b")]
    token, member = await operator_token(small_pool)
    expected_writes: Counter[str] = Counter()
    mismatches: list[str] = []
    granted = {desk.slug: False for desk in desks}
    locks = {desk.slug: asyncio.Lock() for desk in desks}
    gate = asyncio.Semaphore(CONCURRENCY)

    async with app_client(create_app(small_pool)) as client:

        async def request(i: int) -> None:
            desk = desks[i % 2]
            headers = {"Authorization": f"Bearer {token}", "X-Propdesk-Tenant": desk.slug}
            async with gate:
                if i % 10 < 2:  # one request in five changes the desk's state
                    async with locks[desk.slug]:
                        if granted[desk.slug]:
                            r = await client.delete(
                                f"/api/staff/{member}/roles/support", headers=headers
                            )
                        else:
                            r = await client.post(
                                f"/api/staff/{member}/roles",
                                json={"role": "support"},
                                headers=headers,
                            )
                        assert r.status_code in (200, 201, 204), r.text
                        granted[desk.slug] = not granted[desk.slug]
                        expected_writes[desk.slug] += 1
                    return
                r = await client.get("/api/audit/1", headers=headers)
                assert r.status_code == 200, r.text
                if r.json()["target"] != f"tenant:{desk.slug}":
                    mismatches.append(f"request {i} for {desk.slug} read {r.json()['target']}")

        await asyncio.gather(*(request(i) for i in range(REQUESTS)))

    assert mismatches == []
    for desk in desks:
        async with small_pool.db.session(desk) as session:
            records = await list_records(session, "tenant", after_seq=1, limit=REQUESTS)
            assert (await verify(session, "tenant")).ok
        role_changes = [r for r in records if r.action.startswith("staff.role_")]
        assert len(role_changes) == expected_writes[desk.slug]
        assert {r.after["tenant"] for r in role_changes} == {desk.slug}


async def test_ten_thousand_interleaved_units_of_work_hit_their_own_schema(
    small_pool: Runtime, make_tenant
) -> None:
    desks: list[TenantContext] = [await make_tenant("probe_a"), await make_tenant("probe_b")]
    order = [desks[i % 2] for i in range(PROBES)]
    random.Random(7).shuffle(order)
    gate = asyncio.Semaphore(CONCURRENCY)
    wrong: list[str] = []

    async def probe(desk: TenantContext) -> None:
        async with gate, small_pool.db.session(desk) as session:
            table, target = (
                await session.execute(
                    select(
                        literal_column("tableoid::regclass::text"), TenantAuditRecord.target
                    ).where(TenantAuditRecord.seq == 1)
                )
            ).one()
            if table != f"{desk.schema}.audit_log" or target != f"tenant:{desk.slug}":
                wrong.append(f"{desk.slug} touched {table} ({target})")

    await asyncio.gather(*(probe(desk) for desk in order))
    assert wrong == []
    assert small_pool.db.engine.pool.size() == 4
