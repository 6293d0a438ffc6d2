"""The trader's dashboard and challenge page: the engine's objectives in numbers (floors with
the countdown to the daily reset, target progress, trading days), live parts to poll, the
equity chart with the floors, the account to trade on, the history and the pinned rulebook;
and none of it for anyone but the trader."""

from __future__ import annotations

import html
import json
import re
from datetime import date

import httpx
import portal_desks
import pytest
from portal_desks import evaluated_account, later, reading
from portal_desks import open_desk as open_portal_desk

from propdesk.runtime import Runtime

pytestmark = pytest.mark.asyncio(loop_scope="session")
portal_runtime, web = portal_desks.portal_runtime, portal_desks.web  # the fixtures
CHART = re.compile(r'data-chart="([^"]+)"')


def chart_of(page: str) -> dict[str, object]:
    match = CHART.search(page)
    assert match is not None, "no chart on the page"
    spec: dict[str, object] = json.loads(html.unescape(match.group(1)))
    return spec


async def test_the_dashboard_shows_each_objective_in_numbers_and_watches_it(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    challenge = await desk.challenge(ana.email)
    readings = [
        reading(later(hours=1), "100000", "99000"),
        reading(later(hours=2), "100300", "100300"),
    ]
    # The engine wrote day 1's floors; the last stretch comes from the objectives.
    await evaluated_account(
        desk, challenge, "7001", readings, days={date(2026, 3, 2): ("95000.00", "90000.00")}
    )

    page = await web.get("/", headers=ana.headers)
    assert page.status_code == 200
    text = page.text
    assert "Portal Two-Step · 100k" in text and "RECORDING login <code>7001</code>" in text
    assert "Maximum daily loss" in text and "95,000.00" in text
    # Midnight in Prague (CET) is 23:00 UTC: the countdown runs to the daily reset.
    assert 'data-countdown="2026-03-02T23:00:00Z"' in text and "Resets in" in text
    assert "Maximum loss" in text and "90,000.00" in text
    assert "Profit target" in text and "10,000.00" in text and "3.00%" in text
    assert "Minimum trading days" in text and "0 of 3 days" in text
    assert "100,300.00 USD" in text  # balance and equity now
    assert f'hx-get="/challenges/{challenge}/live" hx-trigger="every 5s"' in text

    spec = chart_of(text)
    datasets = {d["label"]: d for d in spec["datasets"]}  # type: ignore[attr-defined]
    assert datasets["Balance"]["data"] == ["100000.00", "100000.00", "100300.00"]
    assert datasets["Equity"]["data"] == ["100000.00", "99000.00", "100300.00"]
    assert datasets["Daily-loss floor"]["data"] == ["95000.00"] * 3
    assert datasets["Daily-loss floor"]["dash"] is True
    assert datasets["Maximum-loss floor"]["data"] == ["90000.00"] * 3

    live = await web.get(f"/challenges/{challenge}/live", headers=ana.headers)
    assert live.status_code == 200 and "<html" not in live.text
    assert "Maximum daily loss" in live.text and "95,000.00" in live.text
    part = await web.get(f"/challenges/{challenge}/chart", headers=ana.headers)
    assert chart_of(part.text) == spec


async def test_the_challenge_page_has_the_history_and_the_rulebook_it_was_bought_under(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    challenge = await desk.challenge(ana.email)
    await evaluated_account(desk, challenge, "7002", [reading(later(hours=1), "100000", "97000")])

    page = await web.get(f"/challenges/{challenge}", headers=ana.headers)
    assert page.status_code == 200
    assert "Rulebook (version 1)" in page.text and "Each day your equity" in page.text
    history = page.text[page.text.index('id="history-title"') :]
    assert history.index("provisioned") < history.index("paid")  # newest first
    assert "awaiting payment → provisioning" in history
    # 97,000 is 2,000 above the 95,000 daily floor: 40% of the 5,000 allowed, a warning.
    assert "2,000.00 USD above the floor" in page.text
    assert "objective-bad" in page.text or "objective-warn" in page.text


async def test_no_trader_sees_another_traders_challenge(
    portal_runtime: Runtime, web: httpx.AsyncClient
) -> None:
    desk = await open_portal_desk(portal_runtime)
    ana = await desk.sign_up(web, "ana@traders.example")
    bo = await desk.sign_up(web, "bo@traders.example", "Bo Trader")
    challenge = await desk.challenge(ana.email)
    await evaluated_account(desk, challenge, "7003", [reading(later(hours=1), "100000", "99500")])

    for path in (f"/challenges/{challenge}", f"/challenges/{challenge}/live", "/chart"):
        path = path if path != "/chart" else f"/challenges/{challenge}/chart"
        theirs = await web.get(path, headers=bo.headers)
        assert theirs.status_code == 404, path
        assert f"no challenge {challenge} of this trader" in theirs.text
    dashboard = await web.get("/", headers=bo.headers)
    assert "No challenge yet" in dashboard.text and "7003" not in dashboard.text

    visitor = await web.get(f"/challenges/{challenge}", headers=desk.header)
    assert visitor.headers["location"] == f"/login?next=/challenges/{challenge}"
    # Ana's session belongs to her desk: on another desk she is nobody.
    other = await open_portal_desk(portal_runtime)
    elsewhere = {**ana.headers, **other.header}
    assert "Trade Portal FX" in (await web.get("/", headers=elsewhere)).text
    assert (await web.get(f"/challenges/{challenge}", headers=elsewhere)).status_code == 303
