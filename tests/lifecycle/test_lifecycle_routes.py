"""Challenges over HTTP: staff read them; risk acts on them with a reason, audited; refusals
say why; other desks see nothing."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from enginekit import engine_runtime, minutes_ago, open_account, open_desk

from propdesk.audit.service import list_records
from propdesk.idempotency.service import prune
from propdesk.lifecycle.service import apply_transition
from propdesk.lifecycle.transitions import Breached
from propdesk.runtime import Runtime

__all__ = ["engine_runtime"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_risk_reinstates_a_failed_challenge_with_a_reason(
    engine_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
) -> None:
    runtime = engine_runtime
    tenant = await open_desk(runtime, server=None)
    opened = await open_account(runtime, tenant, login="9101", opened_at=minutes_ago(30))
    async with runtime.db.unit_of_work(tenant) as session:
        await apply_transition(
            session,
            None,
            opened.challenge_id,
            Breached(at=minutes_ago(10), rule="daily_loss", explanation="below the floor"),
            actor="engine",
        )
    url = f"/api/challenges/{opened.challenge_id}"
    desk = {"X-Propdesk-Tenant": tenant.slug}
    support = {**(await sign_in(await make_staff(("support", tenant.slug)))), **desk}
    risk = {**(await sign_in(await make_staff(("risk", tenant.slug)))), **desk}

    seen = await client.get(url, headers=support)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["status"] == "failed"
    assert [h["event"] for h in body["history"]] == ["paid", "provisioned", "breached"]
    assert "reinstate" in body["allowed"]
    assert (
        await client.post(
            f"{url}/actions", json={"action": "reinstate", "reason": "x"}, headers=support
        )
    ).status_code == 403

    blank = await client.post(
        f"{url}/actions", json={"action": "reinstate", "reason": " "}, headers=risk
    )
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "reason"

    done = await client.post(
        f"{url}/actions", json={"action": "reinstate", "reason": "bad price feed"}, headers=risk
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "active"
    assert done.json()["history"][-1]["reason"] == "bad price feed"

    refused = await client.post(
        f"{url}/actions", json={"action": "reinstate", "reason": "again"}, headers=risk
    )
    assert refused.status_code == 409
    assert "reinstate" in refused.json()["detail"]

    async with runtime.db.session(tenant) as session:
        records = await list_records(session, "tenant")
    assert any(
        r.action == "challenge.reinstate" and r.target == f"challenge:{opened.challenge_id}"
        for r in records
    )

    other = await open_desk(runtime, server=None)
    stranger = {**(await sign_in(await make_staff(("risk", other.slug)))), **desk}
    assert (await client.get(url, headers=stranger)).status_code == 403


async def test_an_idempotency_key_makes_a_repeated_action_act_once(
    engine_runtime: Runtime, client: httpx.AsyncClient, make_staff, sign_in
) -> None:
    runtime = engine_runtime
    tenant = await open_desk(runtime, server=None)
    opened = await open_account(runtime, tenant, login="9102", opened_at=minutes_ago(30))

    async def breach(at: datetime) -> None:
        async with runtime.db.unit_of_work(tenant) as session:
            await apply_transition(
                session,
                None,
                opened.challenge_id,
                Breached(at=at, rule="daily_loss", explanation="floor"),
                actor="engine",
            )

    await breach(minutes_ago(10))
    url = f"/api/challenges/{opened.challenge_id}/actions"
    risk = {
        **(await sign_in(await make_staff(("risk", tenant.slug)))),
        "X-Propdesk-Tenant": tenant.slug,
    }
    body = {"action": "reinstate", "reason": "bad feed"}
    first = await client.post(url, json=body, headers={**risk, "Idempotency-Key": "k-1"})
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await client.post(url, json=body, headers={**risk, "Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post(
        url, json={**body, "reason": "another"}, headers={**risk, "Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]

    # Two at once with a new key: one acts, the other waits for it and gets its answer.
    await breach(datetime.now(UTC))
    racing = await asyncio.gather(
        *(client.post(url, json=body, headers={**risk, "Idempotency-Key": "k-2"}) for _ in "ab")
    )
    assert [r.status_code for r in racing] == [200, 200]
    assert racing[0].content == racing[1].content
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in racing) == ["", "true"]
    history = (await client.get(f"/api/challenges/{opened.challenge_id}", headers=risk)).json()
    assert [h["event"] for h in history["history"]].count("reinstate") == 2

    # Kept at least 72 hours; pruned after.
    async with runtime.db.unit_of_work(tenant) as session:
        assert await prune(session, now=datetime.now(UTC) + timedelta(hours=71)) == 0
        assert await prune(session, now=datetime.now(UTC) + timedelta(hours=97)) == 2
