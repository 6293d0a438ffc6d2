"""The audit API against the real app: list, read, verify, and who may call it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from propdesk.access import service as access
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.directory import load_tenant

PROBLEM = "application/problem+json"
Append = Callable[..., Awaitable[list[int]]]
Tamperer = Any  # conftest.Tamperer
MakeTenant = Callable[..., Awaitable[TenantContext]]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(propdesk_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from propdesk.http.app import create_app
    from propdesk.http.testing import app_client

    async with app_client(create_app(propdesk_runtime)) as http:
        yield http


Token = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def token(propdesk_runtime: Runtime) -> Token:
    """``await token(role, desk)``: headers with an API token of a new staff user holding
    ``role`` on ``desk`` (no role at all when ``role`` is None), sent to ``desk``."""

    async def make(role: str | None, desk: TenantContext) -> dict[str, str]:
        db = propdesk_runtime.db
        async with db.unit_of_work() as session:
            user = await access.create_user(
                session,
                email=f"audit{uuid.uuid4().hex[:8]}@example.com",
                password="correct horse battery staple",
                actor="system:test",
            )
        if role is not None:
            async with db.session() as session:
                bound = await load_tenant(session, desk.slug)
            async with db.unit_of_work(bound) as session:
                await access.grant_role(
                    session,
                    user=await access.get_user(session, user.id),
                    role=role,
                    tenant_slug=desk.slug,
                    actor="system:test",
                    redis_url=propdesk_runtime.redis_url,
                )
        async with db.unit_of_work() as session:
            _, raw = await access.create_api_token(
                session,
                user=await access.get_user(session, user.id),
                name="audit test",
                tenant_slug=None,
                expires_in_days=1,
                actor="system:test",
            )
        return {"Authorization": f"Bearer {raw}", "X-Propdesk-Tenant": desk.slug}

    return make


async def wait_for_policy(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Role grants reach the app's policy through Redis: wait until this one has."""
    import asyncio

    for _ in range(100):
        if (await client.get("/api/audit", headers=headers)).status_code != 403:
            return
        await asyncio.sleep(0.05)


async def test_a_desk_admin_pages_through_the_desk_chain(
    client: httpx.AsyncClient, desk: TenantContext, token: Token, append: Append
) -> None:
    headers = await token("desk_admin", desk)
    await wait_for_policy(client, headers)
    seqs = await append(desk, 5, action="http.test")

    response = await client.get(
        "/api/audit", headers=headers, params={"after_seq": seqs[0], "limit": 2}
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert [r["seq"] for r in page["records"]] == seqs[1:3]
    assert page["next_after_seq"] == seqs[2]
    first = page["records"][0]
    assert first["action"] == "http.test" and first["actor"] == "system:test"
    assert first["after"] == {"n": 2, "amount": "1.25"}
    assert len(first["hash"]) == 64

    everything = await client.get("/api/audit", headers=headers, params={"limit": 500})
    records = everything.json()["records"]
    assert [r["seq"] for r in records] == list(range(1, seqs[-1] + 1))
    assert everything.json()["next_after_seq"] is None

    filtered = await client.get("/api/audit", headers=headers, params={"action": "http.test"})
    assert [r["seq"] for r in filtered.json()["records"]] == seqs


async def test_one_record_by_seq_and_a_missing_one_is_a_404_problem(
    client: httpx.AsyncClient, desk: TenantContext, token: Token, append: Append
) -> None:
    headers = await token("risk", desk)
    await wait_for_policy(client, headers)
    (seq,) = await append(desk, 1)
    response = await client.get(f"/api/audit/{seq}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["seq"] == seq and response.json()["target"] == "thing:0"

    missing = await client.get(f"/api/audit/{seq + 1000}", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
    assert missing.json()["detail"] == f"desk {desk.slug!r} has no audit record {seq + 1000}"


@pytest.mark.parametrize("limit", [0, 501])
async def test_a_limit_out_of_range_is_refused_naming_the_field(
    client: httpx.AsyncClient, desk: TenantContext, token: Token, limit: int
) -> None:
    headers = await token("desk_admin", desk)
    await wait_for_policy(client, headers)
    response = await client.get("/api/audit", headers=headers, params={"limit": limit})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]


async def test_verify_reports_the_first_broken_record(
    client: httpx.AsyncClient, desk: TenantContext, token: Token, append: Append, tamper: Tamperer
) -> None:
    headers = await token("finance", desk)
    await wait_for_policy(client, headers)
    seqs = await append(desk, 3)
    intact = await client.get("/api/audit/verify", headers=headers)
    assert intact.status_code == 200, intact.text
    checked = intact.json()["checked"]
    assert intact.json() == {
        "chain": desk.schema,
        "ok": True,
        "checked": checked,
        "first_broken": None,
    }
    assert checked >= seqs[-1]

    await tamper.remove(desk, seqs[1])
    broken = (await client.get("/api/audit/verify", headers=headers)).json()
    assert broken["ok"] is False
    assert broken["first_broken"]["seq"] == seqs[1]
    assert broken["first_broken"]["kind"] == "missing"
    assert broken["checked"] == seqs[1] - 1


async def test_only_staff_with_audit_read_on_this_desk_get_in(
    client: httpx.AsyncClient, make_tenant: MakeTenant, token: Token
) -> None:
    a = await make_tenant(f"auha{uuid.uuid4().hex[:8]}")
    b = await make_tenant(f"auhb{uuid.uuid4().hex[:8]}")
    support = await token("support", a)
    nobody = await token(None, a)
    admin_of_a = await token("desk_admin", a)  # last: once its grant is live, all are
    await wait_for_policy(client, admin_of_a)
    paths = ["/api/audit", "/api/audit/1", "/api/audit/verify"]
    for path in paths:
        assert (await client.get(path, headers=admin_of_a)).status_code == 200
        assert (await client.get(path, headers={"X-Propdesk-Tenant": a.slug})).status_code == 401
        assert (await client.get(path, headers=support)).status_code == 403
        assert (await client.get(path, headers=nobody)).status_code == 403
        other_desk = {**admin_of_a, "X-Propdesk-Tenant": b.slug}
        assert (await client.get(path, headers=other_desk)).status_code == 403
