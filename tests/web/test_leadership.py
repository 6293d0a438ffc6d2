"""The leadership view at /leadership: leadership and operators see every desk's figures with
totals, charts and a CSV link, on any host; desk staff may not; a period picks the days; a bad
date is named at its field; no desks, no revenue and a missing conversion rate read clearly."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio

from propdesk.embedded import ServiceUrls
from propdesk.http.app import create_app
from propdesk.http.testing import app_client
from propdesk.lifecycle.transitions import Passed, Provisioned
from propdesk.runtime import Runtime
from propdesk.settings import Settings
from propdesk.testing.reports import STAFF_PASSWORD, ReportDesk, reports_runtime, staff_member

pytestmark = pytest.mark.asyncio(loop_scope="session")
PAGE = "/leadership"


@dataclass
class Site:
    runtime: Runtime
    client: httpx.AsyncClient


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def site(propdesk_settings: Settings, propdesk_urls: ServiceUrls) -> AsyncIterator[Site]:
    """An app on a database of its own, no desks yet (EUR converts at 1.08)."""
    settings = propdesk_settings.model_copy(update={"conversion_rates": {"EUR": Decimal("1.08")}})
    async with (
        reports_runtime(settings, propdesk_urls.database_url, propdesk_urls.redis_url) as runtime,
        app_client(create_app(runtime)) as client,
    ):
        yield Site(runtime, client)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desks(site: Site) -> tuple[ReportDesk, ReportDesk]:
    """Alpha (EUR) sold a 100k challenge (540 EUR) that passed phase 1, and paid a payout of
    800 EUR; Zed (USD) has sold nothing."""
    alpha = await ReportDesk.open(site.runtime, "Alpha Prop", "EUR", domains=["alpha.example"])
    challenge = await alpha.challenge_of(await alpha.buy("100k"))
    now = datetime.now(UTC)
    passed = Passed(at=now + timedelta(seconds=1), explanation="target met")
    await alpha.move(challenge, [Provisioned(at=now, account="mt5:1"), passed])
    await alpha.pay_out("1000")
    zed = await ReportDesk.open(site.runtime, "Zed Markets", "USD")
    return alpha, zed


async def signed_in(site: Site, role: str, desk: str | None = None) -> dict[str, str]:
    email = await staff_member(site.runtime, role, desk)
    response = await site.client.post(
        "/backoffice/login",
        data={"email": email, "password": STAFF_PASSWORD, "next": PAGE},
        headers={"Origin": "http://testserver.local"},
    )
    assert response.status_code == 303, response.text
    cookie = response.cookies["propdesk_session"]
    site.client.cookies.clear()
    return {"Cookie": f"propdesk_session={cookie}"}


def text(page: str) -> str:
    """The page's words without tags or runs of spaces."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def chart(page: str, chart_id: str) -> dict:
    found = re.search(rf'id="{chart_id}" data-chart="([^"]+)"', page)
    assert found, f"no chart {chart_id}"
    return json.loads(html.unescape(found.group(1)))


async def test_without_desks_the_page_says_so(site: Site) -> None:
    boss = await signed_in(site, "leadership")
    response = await site.client.get(PAGE, headers=boss)
    assert response.status_code == 200
    assert "No desks yet" in response.text
    assert "Download CSV" in response.text


async def test_leadership_sees_every_desk_and_the_totals(
    site: Site, desks: tuple[ReportDesk, ReportDesk]
) -> None:
    boss = await signed_in(site, "leadership")
    response = await site.client.get(PAGE, params={"period": "7d"}, headers=boss)
    assert response.status_code == 200, response.text
    words = text(response.text)
    # Stat tiles in the reporting currency: 540 EUR is 583.20 USD; 800 EUR is 864.00 USD.
    assert "Revenue 583.20 USD" in words
    assert "Payouts 864.00 USD 864.00 USD paid out" in words
    assert "Payout-to-revenue 148.15%" in words
    assert "Funded accounts 1 trading now" in words
    # Alpha in its own currency with the converted amount below; Zed has no revenue: no ratio.
    assert "Alpha Prop EUR 540.00 EUR 583.20 USD" in words
    assert f"Zed Markets USD {'0.00 USD ' * 6}— " in words
    assert "Zed Markets USD 0 0 0 " in words
    assert "Total USD 583.20 USD" in words
    assert "1 EUR = 1.08 USD" in words
    assert 'href="/api/reports/consolidated.csv?period=custom&amp;to=' in response.text
    assert '<option value="7d" selected>' in response.text


async def test_the_charts_carry_decimal_strings(
    site: Site, desks: tuple[ReportDesk, ReportDesk]
) -> None:
    boss = await signed_in(site, "leadership")
    page = (await site.client.get(PAGE, params={"period": "30d"}, headers=boss)).text
    by_desk = chart(page, "chart-by-desk")
    assert by_desk["type"] == "bar" and by_desk["labels"] == ["Alpha Prop", "Zed Markets"]
    assert [d["data"] for d in by_desk["datasets"]] == [["583.20", "0.00"], ["864.00", "0.00"]]
    over_time = chart(page, "chart-over-time")
    assert over_time["type"] == "line" and len(over_time["labels"]) == 30
    revenue, payouts = over_time["datasets"]
    assert sum(Decimal(v) for v in revenue["data"]) == Decimal("583.20")
    assert payouts["dash"] is True
    pass_rates = chart(page, "chart-pass-rates")
    assert pass_rates["labels"] == ["Phase 1"]
    assert pass_rates["datasets"] == [
        {"label": "All desks", "data": ["100.00"]},
        {"label": "Alpha Prop", "data": ["100.00"]},
    ]
    assert "Pass rate, phase 1 100.00% 1 of 1 attempts passed" in text(page)


async def test_a_custom_period_and_a_bad_date(
    site: Site, desks: tuple[ReportDesk, ReportDesk]
) -> None:
    boss = await signed_in(site, "leadership")
    quiet = await site.client.get(
        PAGE, params={"period": "custom", "from": "2020-01-01", "to": "2020-01-31"}, headers=boss
    )
    words = text(quiet.text)
    assert "2020-01-01 to 2020-01-31" in words
    assert "Revenue 0.00 USD" in words and "Payout-to-revenue — no revenue in the period" in words
    assert "consolidated.csv?period=custom&amp;to=2020-01-31&amp;from=2020-01-01" in quiet.text
    bad = await site.client.get(
        PAGE, params={"period": "custom", "from": "2020-02-30", "to": ""}, headers=boss
    )
    assert bad.status_code == 422
    assert 'id="e-from"' in bad.text and "is not a date like 2025-03-31" in bad.text
    assert "Download CSV" not in bad.text


async def test_a_desk_without_a_rate_is_flagged_and_totals_are_withheld(
    site: Site, desks: tuple[ReportDesk, ReportDesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    boss = await signed_in(site, "leadership")
    monkeypatch.setattr(
        site.runtime, "settings", site.runtime.settings.model_copy(update={"conversion_rates": {}})
    )
    page = (await site.client.get(PAGE, headers=boss)).text
    words = text(page)
    assert "No conversion rate for EUR." in words
    assert "Revenue — needs a rate for EUR" in words
    assert "Alpha Prop EUR no rate for EUR 540.00 EUR no rate" in words
    assert 'id="chart-over-time"' not in page


async def test_operators_may_on_a_desk_host_and_desk_staff_may_not(
    site: Site, desks: tuple[ReportDesk, ReportDesk]
) -> None:
    alpha, _ = desks
    operator = await signed_in(site, "operator")
    on_desk = {**operator, "Host": "alpha.example"}
    assert (await site.client.get(PAGE, headers=on_desk)).status_code == 200
    admin = await signed_in(site, "desk_admin", alpha.tenant.slug)
    for headers in (admin, {**admin, "Host": "alpha.example"}):
        refused = await site.client.get(PAGE, headers=headers)
        assert refused.status_code == 403
        assert "Alpha Prop" not in refused.text
        assert "540.00" not in refused.text
    anonymous = await site.client.get(PAGE)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/backoffice/login?next=/leadership"
