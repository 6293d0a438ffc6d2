"""Traders over HTTP: register (signed in at once), refusals that name the field, sign in and
out with one refusal for a wrong e-mail or password."""

from __future__ import annotations

import httpx
import pytest

from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name

pytestmark = pytest.mark.asyncio(loop_scope="session")
ANA = {
    "email": "ana@traders.example",
    "password": "correct horse battery",
    "name": "Ana Trader",
    "country": "de",
    "accept_terms": True,
}


async def test_register_sign_in_and_out(client: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    desk = {"X-Propdesk-Tenant": (await make_tenant(unique_name("trd").lower()[:30])).slug}
    bad = await client.post(
        "/api/traders", json={**ANA, "accept_terms": False, "email": "x"}, headers=desk
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"email", "accept_terms"}

    joined = await client.post("/api/traders", json=ANA, headers=desk)
    assert joined.status_code == 201, joined.text
    body = joined.json()
    assert (body["trader"]["country"], body["trader"]["kyc_status"]) == ("DE", "not_started")
    assert "propdesk_trader" in joined.headers["set-cookie"] and body["token"].startswith("ptr_")
    taken = await client.post(
        "/api/traders", json={**ANA, "email": "ANA@traders.example"}, headers=desk
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "email"

    bearer = {**desk, "Authorization": f"Bearer {body['token']}"}
    assert (await client.get("/api/traders/me", headers=bearer)).json()["email"] == ANA["email"]
    client.cookies.clear()  # the registration's cookie signs in too; without it, nobody
    assert (await client.get("/api/traders/me", headers=desk)).status_code == 401

    wrong = await client.post(
        "/api/traders/sessions", json={"email": ANA["email"], "password": "nope"}, headers=desk
    )
    unknown = await client.post(
        "/api/traders/sessions", json={"email": "bo@x.example", "password": "nope"}, headers=desk
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    again = await client.post(
        "/api/traders/sessions",
        json={"email": ANA["email"], "password": ANA["password"]},
        headers=desk,
    )
    assert again.status_code == 200
    out = await client.delete("/api/traders/sessions/current", headers=bearer)
    assert out.status_code == 204
    assert (await client.get("/api/traders/me", headers=bearer)).status_code == 401
