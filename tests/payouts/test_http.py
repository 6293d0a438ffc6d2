"""Payouts over HTTP as a trader and finance use them: the quote explains itself in numbers, the
request takes an Idempotency-Key and is refused exactly as the quote says, finance approves and
confirms the bank transfer, and the trader downloads the statement as HTML and PDF."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import open_payout_desk
from pypdf import PdfReader

from propdesk.access import service as access
from propdesk.http.app import create_app
from propdesk.http.testing import app_client
from propdesk.payouts.runner import advance
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.payouts import open_funded
from propdesk.testing.services import unique_name

pytestmark = pytest.mark.asyncio(loop_scope="session")
PASSWORD = "correct horse battery staple"
BANK = {"account_holder": "Ana Trader", "iban": "DE89370400440532013000"}


async def staff(
    runtime: Runtime, http: httpx.AsyncClient, role: str, tenant: TenantContext
) -> dict[str, str]:
    email = f"{unique_name(role)}@desk.example".lower()
    async with runtime.db.unit_of_work() as session:
        user = await access.create_user(session, email=email, password=PASSWORD, actor="test")
    async with runtime.db.unit_of_work(tenant) as session:
        await access.grant_role(
            session,
            user=await access.get_user(session, user.id),
            role=role,
            tenant_slug=tenant.slug,
            actor="test",
            redis_url=runtime.redis_url,
        )
    signed = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    cookie = signed.cookies["propdesk_session"]
    http.cookies.clear()
    return {"Cookie": f"propdesk_session={cookie}"}


async def test_quote_request_review_and_statement_over_http(payout_runtime: Runtime) -> None:
    desk = await open_payout_desk(payout_runtime, display_name="Aurora FX")
    slug = desk.tenant.slug
    async with app_client(create_app(payout_runtime)) as http:
        http.headers["X-Propdesk-Tenant"] = slug
        joined = await http.post(
            "/api/traders",
            json={
                "email": "ana@traders.example",
                "password": "correct horse battery",
                "name": "Ana Trader",
                "country": "DE",
                "accept_terms": True,
            },
        )
        assert joined.status_code == 201, joined.text
        trader = {"Authorization": f"Bearer {joined.json()['token']}"}
        challenge_id, account = await open_funded(payout_runtime, desk.tenant)
        login = account.split(":")[1]
        base = f"/api/traders/me/challenges/{challenge_id}"

        refused = (await http.get(f"{base}/payout-quote", headers=trader)).json()
        assert refused["eligible"] is False and refused["payable"] == "0"
        [why] = refused["refusals"]
        assert why["rule"] == "profit"
        assert "balance 100,000.00 is not above the starting 100,000.00" in why["message"]

        desk.profit(login, "1250")
        desk.platform.open_position(login, "EURUSD", "buy", "1", "1.10000")
        body = {"rail": "bank", "destination": BANK}
        keyed = {**trader, "Idempotency-Key": "payout-1"}
        quoted = (await http.get(f"{base}/payout-quote", headers=trader)).json()
        asked = await http.post(f"{base}/payouts", json=body, headers=keyed)
        assert asked.status_code == 422
        assert asked.json()["refusals"] == quoted["refusals"]
        assert "close every position first: 1 open" in asked.text

        [position] = desk.platform.state(login).positions
        desk.platform.close_position(login, position.id, "1.10000")
        quoted = (await http.get(f"{base}/payout-quote", headers=trader)).json()
        assert (quoted["eligible"], quoted["payable"], quoted["facts"]["balance"]) == (
            True,
            "1000.00",
            "101250.00",
        )
        missing = await http.post(f"{base}/payouts", json=body, headers=trader)
        assert missing.status_code == 422 and "Idempotency-Key" in missing.text
        wrong = await http.post(
            f"{base}/payouts",
            json={"rail": "bank", "destination": {"iban": "not an iban"}},
            headers={**trader, "Idempotency-Key": "payout-bad"},
        )
        assert wrong.status_code == 422
        fields = {p["field"] for p in wrong.json()["errors"]}
        assert {"/destination", "/destination/iban"} <= fields
        asked = await http.post(f"{base}/payouts", json=body, headers=keyed)
        again = await http.post(f"{base}/payouts", json=body, headers=keyed)
        assert asked.status_code == 201, asked.text
        assert again.content == asked.content and again.headers["Idempotent-Replayed"] == "true"
        payout = asked.json()
        assert (payout["status"], Decimal(payout["amount"])) == ("requested", Decimal("1000.00"))

        await advance(payout_runtime, desk.tenant, payout["id"])
        finance = await staff(payout_runtime, http, "finance", desk.tenant)
        support = await staff(payout_runtime, http, "support", desk.tenant)
        queue = (await http.get("/api/payouts?status=pending_review", headers=finance)).json()
        assert [p["id"] for p in queue] == [payout["id"]]
        denied = await http.post(f"/api/payouts/{payout['id']}/approvals", headers=support)
        assert denied.status_code == 403
        approved = await http.post(f"/api/payouts/{payout['id']}/approvals", headers=finance)
        assert approved.status_code == 201, approved.text
        assert approved.json()["status"] == "approved"
        await advance(payout_runtime, desk.tenant, payout["id"])
        paid = await http.post(
            f"/api/payouts/{payout['id']}/confirmation",
            json={"reference": "SEPA-2026-11-22-0042"},
            headers={**finance, "Idempotency-Key": "confirm-1"},
        )
        assert paid.status_code == 200, paid.text
        detail: dict[str, Any] = paid.json()
        assert detail["status"] == "paid" and detail["rail_reference"] == "SEPA-2026-11-22-0042"
        assert [s["event"] for s in detail["timeline"]] == [
            "requested",
            "withdrawn",
            "approved",
            "submitted",
            "paid",
        ]

        page = await http.get(
            f"/api/traders/me/payouts/{payout['id']}/statement.html", headers=trader
        )
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "1,000.00 USD" in page.text and "SEPA-2026-11-22-0042" in page.text
        pdf = await http.get(
            f"/api/traders/me/payouts/{payout['id']}/statement.pdf", headers=trader
        )
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "1,250.00 USD" in text and "Ana Trader" in text
        other = await http.get(f"/api/traders/me/payouts/{payout['id'] + 1}", headers=trader)
        assert other.status_code == 404
