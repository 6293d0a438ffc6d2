"""The consolidated report over HTTP: leadership and operators read it on any host, desk staff
cannot; money is Decimal strings; the CSV is a download with a row per desk and a total row."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from conftest import Desks

from propdesk.testing.reports import STAFF_PASSWORD, staff_member

pytestmark = pytest.mark.asyncio(loop_scope="session")
URL = "/api/reports/consolidated"


async def signed_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login", json={"email": email, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookie = response.cookies["propdesk_session"]
    client.cookies.clear()
    return {"Cookie": f"propdesk_session={cookie}"}


async def test_leadership_reads_the_figures_as_decimal_strings(
    desks: Desks, reports_client: httpx.AsyncClient
) -> None:
    boss = await signed_in(reports_client, await staff_member(desks.runtime, "leadership"))
    response = await reports_client.get(URL, params={"period": "30d"}, headers=boss)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reporting_currency"] == "USD" and body["missing_rates"] == []
    assert body["rates"] == {"EUR": "1.08", "GBP": "1.27"}
    assert body["totals"] == {
        "revenue": "1783.00",
        "refunds": "167.40",
        "chargebacks": "270.00",
        "net_revenue": "1345.60",
        "payouts": "864.00",
        "paid_out": "864.00",
        "payout_ratio": "0.4846",
    }
    alpha = next(d for d in body["desks"] if d["name"] == "Alpha Prop")
    assert (alpha["currency"], alpha["own"]["revenue"], alpha["converted"]["revenue"]) == (
        "EUR",
        "1100.00",
        "1188.00",
    )
    assert alpha["pass_rates"] == [
        {"phase": 1, "passed": 2, "ended": 3, "rate": "0.6667"},
        {"phase": 2, "passed": 0, "ended": 1, "rate": "0.0000"},
    ]
    gamma = next(d for d in body["desks"] if d["name"] == "Gamma Capital")
    assert gamma["own"]["payout_ratio"] is None
    assert body["period"]["preset"] == "30d" and body["series"]["step"] == "day"


async def test_explicit_dates_and_a_bad_one_named(
    desks: Desks, reports_client: httpx.AsyncClient
) -> None:
    boss = await signed_in(reports_client, await staff_member(desks.runtime, "leadership"))
    quiet = await reports_client.get(
        URL, params={"from": "2020-01-01", "to": "2020-01-31"}, headers=boss
    )
    assert quiet.status_code == 200
    assert quiet.json()["period"] == {
        "preset": "custom",
        "label": "2020-01-01 to 2020-01-31",
        "from": "2020-01-01",
        "to": "2020-01-31",
    }
    assert quiet.json()["totals"]["payout_ratio"] is None
    bad = await reports_client.get(URL, params={"from": "2020-13-01"}, headers=boss)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "from"


async def test_operators_may_on_any_host_and_desk_staff_may_not(
    desks: Desks, reports_client: httpx.AsyncClient
) -> None:
    operator = await signed_in(reports_client, await staff_member(desks.runtime, "operator"))
    on_a_desk = {**operator, "X-Propdesk-Tenant": desks.alpha.tenant.slug}
    assert (await reports_client.get(URL, headers=on_a_desk)).status_code == 200
    slug = desks.alpha.tenant.slug
    admin = await signed_in(reports_client, await staff_member(desks.runtime, "desk_admin", slug))
    for headers in (admin, {**admin, "X-Propdesk-Tenant": slug}):
        assert (await reports_client.get(URL, headers=headers)).status_code == 403
        assert (await reports_client.get(f"{URL}.csv", headers=headers)).status_code == 403
    assert (await reports_client.get(URL)).status_code == 401


async def test_the_csv_export_is_a_download_of_every_desk_and_the_total(
    desks: Desks, reports_client: httpx.AsyncClient
) -> None:
    boss = await signed_in(reports_client, await staff_member(desks.runtime, "leadership"))
    params = {"from": "2020-01-01", "to": "2099-12-31"}
    response = await reports_client.get(f"{URL}.csv", params=params, headers=boss)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="propdesk-consolidated-2020-01-01-to-2099-12-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["desk"] for r in rows] == ["Alpha Prop", "Beta Futures", "Gamma Capital", "Total"]
    alpha, beta, gamma, totals = rows
    assert (alpha["revenue"], alpha["revenue_usd"], alpha["funded_accounts"]) == (
        "1100.00",
        "1188.00",
        "1",
    )
    assert (beta["revenue"], beta["purchases"]) == ("764.00", "2")
    assert (gamma["currency"], gamma["payout_to_revenue"]) == ("GBP", "")
    assert (totals["revenue_usd"], totals["payouts_usd"], totals["purchases"]) == (
        "1952.00",
        "864.00",
        "6",
    )
    assert (totals["phase_1_passed"], totals["phase_1_ended"]) == ("3", "4")
    assert (totals["phase_2_pass_rate"], totals["funded_accounts"]) == ("0.5000", "2")
