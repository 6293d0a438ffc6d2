"""The consolidated report read from real desks' books: each figure matches the desk's ledger,
orders and lifecycle history; desks convert at the configured rates and add up; a desk whose
currency has no rate is named and the totals are withheld."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from conftest import Desks

from propdesk.ledger import service as ledger
from propdesk.reports.conversion import Rates
from propdesk.reports.figures import Consolidated, DeskReport, Money, PhaseOutcome
from propdesk.reports.period import Period
from propdesk.reports.service import consolidated, report

pytestmark = pytest.mark.asyncio(loop_scope="session")
D = Decimal


def by_name(found: Consolidated) -> dict[str, DeskReport]:
    return {d.desk.name: d for d in found.desks}


async def test_each_desk_in_its_own_currency_and_converted(desks: Desks) -> None:
    found = await report(desks.runtime, preset="30d")
    assert [d.desk.name for d in found.desks] == ["Alpha Prop", "Beta Futures", "Gamma Capital"]
    alpha, beta, gamma = (
        by_name(found)[n] for n in ("Alpha Prop", "Beta Futures", "Gamma Capital")
    )
    assert alpha.own == Money(
        revenue=D("1100.00"),
        refunds=D("155.00"),
        chargebacks=D("250.00"),
        payouts=D("800.00"),
        paid_out=D("800.00"),
    )
    assert alpha.own.net_revenue == D("695.00")
    assert alpha.own.payout_ratio == D("0.7273")
    assert alpha.converted == Money(
        D("1188.00"), D("167.40"), D("270.00"), D("864.00"), D("864.00")
    )
    # Beta's 40-day-old purchase is outside the last 30 days.
    assert beta.own == beta.converted == Money(revenue=D("595.00"))
    assert gamma.own == Money() and gamma.own.payout_ratio is None
    assert (alpha.desk.currency, beta.desk.currency, gamma.desk.currency) == ("EUR", "USD", "GBP")
    assert found.rates == {"EUR": D("1.08"), "GBP": D("1.27")}


async def test_totals_add_up_the_converted_desks(desks: Desks) -> None:
    found = await report(desks.runtime, preset="30d")
    assert found.reporting == "USD" and found.missing_rates == ()
    assert found.totals == Money(D("1783.00"), D("167.40"), D("270.00"), D("864.00"), D("864.00"))
    assert found.totals.net_revenue == D("1345.60")
    assert found.totals.payout_ratio == D("0.4846")  # 864 / 1783
    assert (found.purchases, found.resets, found.funded) == (5, 0, 2)
    assert found.phases == (PhaseOutcome(1, 3, 4), PhaseOutcome(2, 1, 2))
    everything = await report(desks.runtime, preset="all")
    assert everything.totals is not None and everything.totals.revenue == D("1952.00")
    assert everything.purchases == 6


async def test_counts_come_from_orders_and_the_lifecycle_history(desks: Desks) -> None:
    alpha = by_name(await report(desks.runtime, preset="7d"))["Alpha Prop"]
    assert alpha.activity.purchases == 4
    # The instant-funded account trades; the refunded and failed challenges do not count.
    assert alpha.activity.funded == 1
    # Phase 1: two passes (one after a reinstated failure) and one failure; phase 2: a failure.
    assert alpha.activity.phases == (PhaseOutcome(1, 2, 3), PhaseOutcome(2, 0, 1))
    assert [o.rate for o in alpha.activity.phases] == [D("0.6667"), D("0.0000")]


async def test_all_time_figures_match_each_desks_ledger(desks: Desks) -> None:
    found = by_name(await report(desks.runtime, preset="all"))
    for desk in (desks.alpha, desks.beta, desks.gamma):
        async with desks.runtime.db.session(desk.tenant) as session:
            books = {b.account: b.natural for b in await ledger.balances(session)}
        own = found[desk.tenant.display_name].own
        assert own is not None
        assert own.revenue == books.get("fee_revenue", 0)
        assert own.refunds == books.get("refunds", 0)
        assert own.chargebacks == books.get("chargebacks", 0)
        assert own.payouts == books.get("payout_expense", 0)
        # Everything approved was paid: nothing is left owing to traders.
        assert books.get("payouts_payable", 0) == 0


async def test_a_period_without_activity_is_zero_and_has_no_ratio(desks: Desks) -> None:
    found = await report(desks.runtime, first="2020-01-01", last="2020-01-31")
    assert found.period == Period("custom", date(2020, 1, 1), date(2020, 1, 31))
    assert found.totals == Money() and found.totals.payout_ratio is None
    assert all(d.own == Money() and d.activity.phases == () for d in found.desks)
    assert found.funded == 2, "funded accounts are counted as they are now"
    assert found.series is not None and found.series.step == "day"
    assert len(found.series.starts) == 31 and set(found.series.revenue) == {D(0)}


async def test_a_currency_without_a_rate_is_named_and_withholds_the_totals(desks: Desks) -> None:
    period = Period("all", None, datetime.now(UTC).date())
    found = await consolidated(desks.runtime, period, Rates("USD", {"EUR": D("1.08")}))
    assert found.missing_rates == ("GBP",)
    assert found.totals is None and found.series is None
    gamma = by_name(found)["Gamma Capital"]
    assert (gamma.own, gamma.converted, gamma.missing_rates) == (Money(), None, ("GBP",))
    alpha = by_name(found)["Alpha Prop"]
    assert alpha.converted is not None and alpha.converted.revenue == D("1188.00")
    assert found.purchases == 6, "counts need no rate"


async def test_the_series_draws_revenue_and_payouts_by_day_in_the_reporting_currency(
    desks: Desks,
) -> None:
    found = await report(desks.runtime, preset="90d")
    assert found.series is not None and found.series.step == "week"
    assert sum(found.series.revenue) == found.totals.revenue == D("1952.00")
    assert sum(found.series.payouts) == D("864.00")
    week = await report(desks.runtime, preset="7d")
    assert week.series is not None and week.series.step == "day" and len(week.series.starts) == 7
