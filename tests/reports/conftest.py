"""Three desks with real books in a database of their own (a report spans every desk):

- Alpha (EUR): four challenges bought (540 + 155 + 250 + 155 EUR); the second refunded, the
  third charged back, the fourth's chargeback won back; phase 1 passed twice and failed once
  (a failure reinstated and then passed counts once, as a pass), phase 2 failed once; an
  instant-funded account paid a payout of 800 EUR (80% of 1,000).
- Beta (USD): a 10k challenge bought 40 days ago (169 USD) and a 100k one today (595 USD)
  that passed both phases and trades on its funded account.
- Gamma (GBP): nothing yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest_asyncio

from propdesk.embedded import ServiceUrls
from propdesk.http.app import create_app
from propdesk.http.testing import app_client
from propdesk.lifecycle.transitions import Breached, NextPhase, Passed, Provisioned, Reinstate
from propdesk.runtime import Runtime
from propdesk.settings import Settings
from propdesk.testing.reports import ReportDesk, reports_runtime

RATES = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27")}


@dataclass
class Desks:
    runtime: Runtime
    alpha: ReportDesk
    beta: ReportDesk
    gamma: ReportDesk


def _now() -> datetime:
    return datetime.now(UTC)


async def _alpha(runtime: Runtime) -> ReportDesk:
    desk = await ReportDesk.open(runtime, "Alpha Prop", "EUR")
    passes = await desk.buy("100k")
    refunded = await desk.buy("10k")
    charged = await desk.buy("25k")
    won = await desk.buy("10k")
    assert await desk.refund(refunded, "155.00") == "refund of 155.00 posted: challenge closed"
    await desk.chargeback(charged, "250.00")
    await desk.chargeback(won, "155.00", won=True)
    one, three, four = [await desk.challenge_of(o) for o in (passes, charged, won)]
    breach = {"rule": "max_loss", "explanation": "equity below the floor"}
    await desk.move(
        one,
        [
            Provisioned(at=_now(), account="mt5:1"),
            Passed(at=_now(), explanation="target met"),
            NextPhase(at=_now()),
            Provisioned(at=_now(), account="mt5:2"),
            Breached(at=_now(), **breach),
        ],
    )
    await desk.move(
        three,
        [
            Provisioned(at=_now(), account="mt5:3"),
            Breached(at=_now(), **breach),
            Reinstate(at=_now(), actor="risk", reason="a bad price"),
            Passed(at=_now(), explanation="target met"),
        ],
    )
    await desk.move(four, [Provisioned(at=_now(), account="mt5:4"), Breached(at=_now(), **breach)])
    await desk.pay_out("1000")
    return desk


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def desks(propdesk_settings: Settings, propdesk_urls: ServiceUrls) -> AsyncIterator[Desks]:
    settings = propdesk_settings.model_copy(update={"conversion_rates": RATES})
    async with reports_runtime(settings, propdesk_urls.database_url, propdesk_urls.redis_url) as rt:
        alpha = await _alpha(rt)
        beta = await ReportDesk.open(rt, "Beta Futures", "USD")
        await beta.buy("10k", at=_now() - timedelta(days=40))
        funded = await beta.challenge_of(await beta.buy("100k"))
        for phase in (1, 2):
            await beta.move(funded, [Provisioned(at=_now(), account=f"mt5:{phase}")])
            await beta.move(funded, [Passed(at=_now(), explanation="met"), NextPhase(at=_now())])
        await beta.move(funded, [Provisioned(at=_now(), account="mt5:3")])
        gamma = await ReportDesk.open(rt, "Gamma Capital", "GBP")
        yield Desks(rt, alpha, beta, gamma)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def reports_client(desks: Desks) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(desks.runtime)) as http:
        yield http
