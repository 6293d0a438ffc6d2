"""Consolidated figures over HTTP, for leadership and operators on any host (no desk needed)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import QueryParameter

from propdesk.access.permissions import requires
from propdesk.http.deps import RuntimeDep
from propdesk.http.tenant import NO_TENANT_OPT
from propdesk.reports import export
from propdesk.reports.figures import Consolidated, Money, PhaseOutcome
from propdesk.reports.service import report

TAGS = ["reports"]
#: Group-wide: the report spans desks, so it needs none (and works on any host).
READ: dict[str, Any] = {**requires("reports", "read"), NO_TENANT_OPT: True}

Preset = Annotated[
    str | None,
    QueryParameter(
        name="period",
        description="mtd (this month to date, the default), 7d, 30d, 90d, all, or custom: "
        "from and to (dates without a period are custom too).",
    ),
]
First = Annotated[str | None, QueryParameter(name="from", description="First day, 2025-03-01.")]
Last = Annotated[
    str | None, QueryParameter(name="to", description="Last day, included (default today).")
]


class MoneyView(msgspec.Struct):
    revenue: Decimal
    refunds: Decimal
    chargebacks: Decimal
    net_revenue: Decimal
    payouts: Decimal
    paid_out: Decimal
    #: ``payouts / revenue``; null without revenue.
    payout_ratio: Decimal | None


class PassRateView(msgspec.Struct):
    phase: int
    passed: int
    ended: int
    rate: Decimal | None


class DeskView(msgspec.Struct):
    slug: str
    name: str
    status: str
    currency: str
    #: In the desk's currency; null when a currency it booked in has no rate.
    own: MoneyView | None
    #: In the reporting currency; null when a rate is missing.
    converted: MoneyView | None
    missing_rates: list[str]
    #: Currencies it booked in besides its own.
    other_currencies: list[str]
    purchases: int
    resets: int
    funded: int
    pass_rates: list[PassRateView]


class PeriodView(msgspec.Struct):
    preset: str
    label: str
    first: date | None = msgspec.field(name="from")
    last: date = msgspec.field(name="to")


class SeriesView(msgspec.Struct):
    step: str
    starts: list[date]
    revenue: list[Decimal]
    payouts: list[Decimal]


class ConsolidatedView(msgspec.Struct):
    period: PeriodView
    reporting_currency: str
    rates: dict[str, Decimal]
    missing_rates: list[str]
    desks: list[DeskView]
    #: In the reporting currency; null until every desk's currency has a rate.
    totals: MoneyView | None
    purchases: int
    resets: int
    funded: int
    pass_rates: list[PassRateView]
    series: SeriesView | None
    generated_at: datetime


def _money(money: Money | None) -> MoneyView | None:
    if money is None:
        return None
    return MoneyView(
        money.revenue,
        money.refunds,
        money.chargebacks,
        money.net_revenue,
        money.payouts,
        money.paid_out,
        money.payout_ratio,
    )


def _rates(outcomes: tuple[PhaseOutcome, ...]) -> list[PassRateView]:
    return [PassRateView(o.phase, o.passed, o.ended, o.rate) for o in outcomes]


def view(found: Consolidated) -> ConsolidatedView:
    period, series = found.period, found.series
    return ConsolidatedView(
        period=PeriodView(period.preset, period.label, period.first, period.last),
        reporting_currency=found.reporting,
        rates=dict(found.rates),
        missing_rates=list(found.missing_rates),
        desks=[
            DeskView(
                d.desk.slug,
                d.desk.name,
                d.desk.status,
                d.desk.currency,
                _money(d.own),
                _money(d.converted),
                list(d.missing_rates),
                list(d.other_currencies),
                d.activity.purchases,
                d.activity.resets,
                d.activity.funded,
                _rates(d.activity.phases),
            )
            for d in found.desks
        ],
        totals=_money(found.totals),
        purchases=found.purchases,
        resets=found.resets,
        funded=found.funded,
        pass_rates=_rates(found.phases),
        series=None
        if series is None
        else SeriesView(
            series.step, list(series.starts), list(series.revenue), list(series.payouts)
        ),
        generated_at=found.generated_at,
    )


@get("/api/reports/consolidated", opt=READ, operation_id="getConsolidatedReport", tags=TAGS)
async def get_consolidated(
    runtime: RuntimeDep, period: Preset = None, first: First = None, last: Last = None
) -> ConsolidatedView:
    """Every desk's revenue, refunds, chargebacks, payouts, pass rates and funded accounts in
    the period, in its own currency and in the reporting currency, and the totals."""
    return view(await report(runtime, preset=period, first=first, last=last))


@get(
    "/api/reports/consolidated.csv",
    opt=READ,
    operation_id="exportConsolidatedReport",
    tags=TAGS,
    media_type="text/csv",
)
async def export_consolidated(
    runtime: RuntimeDep, period: Preset = None, first: First = None, last: Last = None
) -> Response[str]:
    """The same report as CSV: one row per desk and a total row."""
    found = await report(runtime, preset=period, first=first, last=last)
    disposition = f'attachment; filename="{export.filename(found)}"'
    return Response(
        export.csv_text(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


ROUTES = [get_consolidated, export_consolidated]
