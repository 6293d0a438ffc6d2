"""Bridges deliver platform events over HTTP: all or nothing, duplicates counted and ignored,
conflicts and bad events refused with where they are, and only for those allowed to."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from enginekit import engine_runtime, minutes_ago, open_account, open_desk, snapshot
from sqlalchemy import text

from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.naming import quote_schema

__all__ = ["engine_runtime"]
pytestmark = pytest.mark.asyncio(loop_scope="session")
EVENTS = "/api/engine/events"


async def _journal(runtime: Runtime, tenant: TenantContext) -> list[tuple[int, str]]:
    async with runtime.db.session(tenant) as session:
        rows = await session.execute(
            text(
                f"SELECT seq, event_key FROM {quote_schema(tenant.schema)}.account_events "
                "ORDER BY seq"
            )
        )
        return [(r[0], r[1]) for r in rows.all()]


async def _bridge(
    engine_runtime: Runtime, make_staff, sign_in
) -> tuple[TenantContext, dict[str, str]]:
    tenant = await open_desk(engine_runtime, server=None)
    await open_account(engine_runtime, tenant, login="6001", opened_at=minutes_ago(20))
    bridge = await make_staff(("bridge", tenant.slug))
    return tenant, {**(await sign_in(bridge)), "X-Propdesk-Tenant": tenant.slug}


async def test_a_delivery_is_journalled_once_however_often_it_comes(
    engine_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
) -> None:
    tenant, headers = await _bridge(engine_runtime, make_staff, sign_in)
    start = minutes_ago(10)
    deal = {
        "platform": "recording",
        "login": "6001",
        "seq": 3,
        "type": "deal",
        "time": (start + timedelta(minutes=1)).isoformat(),
        "id": "991",
        "position": "p1",
        "symbol": "EURUSD",
        "side": "buy",
        "entry": "in",
        "volume": "1",
        "price": "1.08",
        "profit": "0",
    }
    body = {"events": [snapshot("6001", 2, start, "100100"), deal]}

    first = await client.post(EVENTS, json=body, headers=headers)
    assert first.status_code == 202, first.text
    assert first.json() == {"accepted": 2, "duplicates": 0, "late": 0}
    again = await client.post(EVENTS, json=body, headers=headers)
    assert again.json() == {"accepted": 0, "duplicates": 2, "late": 0}
    assert [seq for seq, _ in await _journal(engine_runtime, tenant)] == [1, 2, 3]
    assert (3, "deal:991") in await _journal(engine_runtime, tenant)


async def test_a_bad_delivery_names_every_problem_and_writes_nothing(
    engine_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
) -> None:
    tenant, headers = await _bridge(engine_runtime, make_staff, sign_in)
    start = minutes_ago(10)
    body = {
        "events": [
            snapshot("6001", 2, start, "100100"),
            {**snapshot("6001", 3, start, "1"), "equity": 100100.5},
            snapshot("9999", 2, start, "100000"),
            {**snapshot("6001", 4, start, "100000"), "seq": 0},
            {**snapshot("6001", 5, start, "100000"), "time": "2026-03-02T10:00:00"},
        ]
    }
    response = await client.post(EVENTS, json=body, headers=headers)
    assert response.status_code == 422, response.text
    fields = {p["field"]: p["message"] for p in response.json()["errors"]}
    assert set(fields) == {"/events/1/equity", "/events/2/login", "/events/3/seq", "/events/4/time"}
    assert "float" in fields["/events/1/equity"] or "decimal" in fields["/events/1/equity"]
    assert "no recording account 9999" in fields["/events/2/login"]
    assert await _journal(engine_runtime, tenant) == [
        (1, (await _journal(engine_runtime, tenant))[0][1])
    ]


async def test_an_event_contradicting_the_journal_refuses_the_whole_delivery(
    engine_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
) -> None:
    tenant, headers = await _bridge(engine_runtime, make_staff, sign_in)
    start = minutes_ago(10)
    await client.post(
        EVENTS, json={"events": [snapshot("6001", 2, start, "100100")]}, headers=headers
    )
    before = await _journal(engine_runtime, tenant)
    clash = {"events": [snapshot("6001", 3, start, "100200"), snapshot("6001", 2, start, "99000")]}
    response = await client.post(EVENTS, json=clash, headers=headers)
    assert response.status_code == 409, response.text
    assert "seq 2 already holds" in response.json()["detail"]
    assert await _journal(engine_runtime, tenant) == before  # seq 3 was not kept either


async def test_only_a_bridge_of_the_desk_may_deliver(
    engine_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
) -> None:
    tenant, _ = await _bridge(engine_runtime, make_staff, sign_in)
    body = {"events": [snapshot("6001", 2, minutes_ago(5), "100100")]}
    admin = await make_staff(("desk_admin", tenant.slug))
    as_admin = {**(await sign_in(admin)), "X-Propdesk-Tenant": tenant.slug}
    assert (await client.post(EVENTS, json=body, headers=as_admin)).status_code == 403
    other, other_headers = await _bridge(engine_runtime, make_staff, sign_in)
    elsewhere = {**other_headers, "X-Propdesk-Tenant": tenant.slug}
    assert (await client.post(EVENTS, json=body, headers=elsewhere)).status_code == 403
    assert (
        await client.post(EVENTS, json=body, headers={"X-Propdesk-Tenant": tenant.slug})
    ).status_code == 401
    assert other.slug != tenant.slug
