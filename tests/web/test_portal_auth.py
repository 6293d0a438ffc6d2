"""Signing up, in and out of the trader portal: field errors inline with nothing written, the
session cookie the API uses, sign-in redirects, and forms only from the site's own pages."""

from __future__ import annotations

import httpx
import portal_desks
import pytest
from portal_desks import ORIGIN, PASSWORD, Desk, open_desk
from sqlalchemy import func, select

from propdesk.runtime import Runtime
from propdesk.traders.models import Trader

pytestmark = pytest.mark.asyncio(loop_scope="session")
portal_runtime, web = portal_desks.portal_runtime, portal_desks.web  # the fixtures


async def traders(runtime: Runtime, desk: Desk) -> int:
    async with runtime.db.session(desk.tenant) as session:
        return int(await session.scalar(select(func.count()).select_from(Trader)) or 0)


async def test_sign_up_shows_each_wrong_field_and_registers_nobody(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_desk(portal_runtime)
    page = await web.get("/signup", headers=desk.header)
    assert page.status_code == 200
    for label in ("E-mail", "Password", "Full name", "Country", "I accept the terms", "Sign up"):
        assert label in page.text

    bad = {"email": "not-an-email", "password": "short", "name": "Ana", "country": "Germany"}
    refused = await web.post("/signup", data=bad, headers={**desk.header, **ORIGIN})
    assert refused.status_code == 422
    assert 'id="e-email">not an e-mail address' in refused.text
    assert 'id="e-password">use at least 12 characters' in refused.text
    assert "an ISO 3166 country code such as DE or GB" in refused.text
    assert 'id="e-accept_terms">the terms must be accepted to register' in refused.text
    # What was typed comes back (never the password).
    assert 'value="not-an-email"' in refused.text and 'value="short"' not in refused.text
    assert "propdesk_trader" not in refused.headers.get("set-cookie", "")
    assert await traders(portal_runtime, desk) == 0


async def test_a_new_trader_is_signed_in_and_lands_on_the_dashboard(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_desk(portal_runtime, name="Portal Signup FX")
    ana = await desk.sign_up(web, "ana@traders.example")
    dashboard = await web.get("/", headers=ana.headers)
    assert dashboard.status_code == 200
    assert "Your challenges" in dashboard.text and "No challenge yet" in dashboard.text
    assert "Sign out" in dashboard.text and "Portal Signup FX" in dashboard.text
    # The same session works on the JSON API: one trader session, two faces.
    me = await web.get("/api/traders/me", headers=ana.headers)
    assert me.json()["email"] == "ana@traders.example" and me.json()["country"] == "DE"

    again = {"email": "ANA@traders.example", "password": PASSWORD, "name": "Ana", "country": "DE"}
    taken = await web.post(
        "/signup", data={**again, "accept_terms": "on"}, headers={**desk.header, **ORIGIN}
    )
    assert taken.status_code == 409
    assert "is registered already: sign in instead" in taken.text
    assert await traders(portal_runtime, desk) == 1


async def test_sign_in_sign_out_and_the_way_back(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_desk(portal_runtime)
    await desk.sign_up(web, "bo@traders.example", "Bo Trader")

    away = await web.get("/payouts", headers=desk.header)
    assert away.status_code == 303 and away.headers["location"] == "/login?next=/payouts"
    wrong = await web.post(
        "/login",
        data={"email": "bo@traders.example", "password": "not it", "next": "/payouts"},
        headers={**desk.header, **ORIGIN},
    )
    assert wrong.status_code == 401 and "wrong e-mail or password" in wrong.text
    assert 'value="bo@traders.example"' in wrong.text

    signed = await web.post(
        "/login",
        data={"email": "bo@traders.example", "password": PASSWORD, "next": "/payouts"},
        headers={**desk.header, **ORIGIN},
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/payouts"
    cookie = {**desk.header, "Cookie": f"propdesk_trader={signed.cookies['propdesk_trader']}"}
    web.cookies.clear()
    assert (await web.get("/payouts", headers=cookie)).status_code == 200

    # A next that leaves the site is not followed.
    elsewhere = await web.post(
        "/login",
        data={"email": "bo@traders.example", "password": PASSWORD, "next": "//evil.example/"},
        headers={**desk.header, **ORIGIN},
    )
    assert elsewhere.headers["location"] == "/"
    web.cookies.clear()

    out = await web.post("/logout", headers={**cookie, **ORIGIN})
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    assert 'propdesk_trader=""' in out.headers["set-cookie"]
    assert (await web.get("/payouts", headers=cookie)).status_code == 303


async def test_forms_are_only_taken_from_the_sites_own_pages(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_desk(portal_runtime)
    form = {"email": "eve@traders.example", "password": PASSWORD, "name": "Eve", "country": "DE"}
    for origin in ({}, {"Origin": "https://evil.example"}):
        refused = await web.post(
            "/signup", data={**form, "accept_terms": "on"}, headers={**desk.header, **origin}
        )
        assert refused.status_code == 403, origin
        assert "this form can only be sent from the site" in refused.text
    assert await traders(portal_runtime, desk) == 0
