"""The consolidated figures: what each desk did in a period, converted and added up. Pure.

Money, per currency as the ledger booked it (natural signs, net of reversals):

- ``revenue``: fees received (credits to ``fee_revenue``);
- ``refunds``: fees given back, by the payment provider or with a payout (``refunds``);
- ``chargebacks``: funds a dispute took (``chargebacks``; a won dispute gives them back);
- ``payouts``: traders' profit share, booked when a payout is approved (``payout_expense``);
- ``paid_out``: cash sent to traders for payouts, share and refunded fee (the cash side of
  paid payouts);
- the payout-to-revenue ratio is ``payouts / revenue`` ("—" while there is no revenue).

A desk's rate is missing when its currency, or one it booked in, has no conversion rate. Its
own figures are still shown; the totals are not, since a total that leaves a desk out is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from propdesk.reports.conversion import Rates, convert
from propdesk.reports.period import Granularity, Period, bucket_of, buckets, granularity

ZERO = Decimal("0.00")
RATIO = Decimal("0.0001")


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole`` to four places, or None when there is no whole to divide by."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO)


@dataclass(frozen=True, slots=True)
class Money:
    """One currency's money of a period."""

    revenue: Decimal = ZERO
    refunds: Decimal = ZERO
    chargebacks: Decimal = ZERO
    payouts: Decimal = ZERO
    paid_out: Decimal = ZERO

    @property
    def net_revenue(self) -> Decimal:
        return self.revenue - self.refunds - self.chargebacks

    @property
    def payout_ratio(self) -> Decimal | None:
        return ratio(self.payouts, self.revenue)

    def __add__(self, other: Money) -> Money:
        return Money(*(getattr(self, n) + getattr(other, n) for n in MONEY_FIELDS))

    def converted(self, currency: str, rates: Rates, into: str | None = None) -> Money:
        return Money(*(convert(getattr(self, n), currency, rates, into) for n in MONEY_FIELDS))


MONEY_FIELDS = tuple(f.name for f in fields(Money))


def total(amounts: Iterable[Money]) -> Money:
    return sum(amounts, Money())


@dataclass(frozen=True, slots=True)
class PhaseOutcome:
    """Attempts at phase ``phase`` (1 is the first) that ended in the period, and how many of
    them passed. A refund ends an attempt without a verdict, so it is not counted."""

    phase: int
    passed: int
    ended: int

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.passed, self.ended)


def merge_phases(groups: Iterable[Iterable[PhaseOutcome]]) -> tuple[PhaseOutcome, ...]:
    passed: dict[int, int] = {}
    ended: dict[int, int] = {}
    for group in groups:
        for outcome in group:
            passed[outcome.phase] = passed.get(outcome.phase, 0) + outcome.passed
            ended[outcome.phase] = ended.get(outcome.phase, 0) + outcome.ended
    return tuple(PhaseOutcome(p, passed[p], ended[p]) for p in sorted(ended))


@dataclass(frozen=True, slots=True)
class DayMoney:
    """Revenue and payouts booked on one UTC day in one currency (for the charts)."""

    day: date
    currency: str
    revenue: Decimal
    payouts: Decimal


@dataclass(frozen=True)
class Desk:
    slug: str
    name: str
    #: The desk's base currency (tenant registry).
    currency: str
    status: str = "active"


@dataclass(frozen=True)
class DeskActivity:
    """What one desk's books and history say about a period."""

    #: Money by the currency it was booked in.
    booked: Mapping[str, Money] = field(default_factory=dict)
    days: tuple[DayMoney, ...] = ()
    #: Paid orders: new challenges bought, and resets or retries of failed ones.
    purchases: int = 0
    resets: int = 0
    #: Challenges trading on a funded (or instant-funded) account now, whatever the period.
    funded: int = 0
    phases: tuple[PhaseOutcome, ...] = ()


@dataclass(frozen=True)
class DeskReport:
    desk: Desk
    activity: DeskActivity
    #: In the desk's own currency (None when a currency it booked in has no rate).
    own: Money | None
    #: In the reporting currency (None when a rate is missing).
    converted: Money | None
    missing_rates: tuple[str, ...]

    @property
    def other_currencies(self) -> tuple[str, ...]:
        """Currencies it booked in besides its own (converted into its own at the rates)."""
        return tuple(sorted(set(self.activity.booked) - {self.desk.currency}))


@dataclass(frozen=True)
class Series:
    """Revenue and payouts per bucket, in the reporting currency, empty buckets included."""

    step: Granularity
    starts: tuple[date, ...]
    revenue: tuple[Decimal, ...]
    payouts: tuple[Decimal, ...]


@dataclass(frozen=True)
class Consolidated:
    period: Period
    reporting: str
    #: The rates the figures were converted at (currencies in play that have one).
    rates: Mapping[str, Decimal]
    desks: tuple[DeskReport, ...]
    #: In the reporting currency; None when any desk misses a rate.
    totals: Money | None
    missing_rates: tuple[str, ...]
    purchases: int
    resets: int
    funded: int
    phases: tuple[PhaseOutcome, ...]
    series: Series | None
    generated_at: datetime


def desk_report(desk: Desk, activity: DeskActivity, rates: Rates) -> DeskReport:
    booked = dict(activity.booked)
    currencies = set(booked) | {desk.currency}
    missing = rates.missing(currencies)
    own: Money | None = None
    if set(booked) <= {desk.currency}:
        own = booked.get(desk.currency, Money())
    elif not missing:
        own = total(m.converted(c, rates, desk.currency) for c, m in booked.items())
    converted = None
    if not missing:
        converted = total(m.converted(c, rates) for c, m in booked.items())
    return DeskReport(desk, activity, own, converted, missing)


def consolidate(
    period: Period, rates: Rates, desks: Sequence[tuple[Desk, DeskActivity]], now: datetime
) -> Consolidated:
    """Every desk's report, and the totals when every desk could be converted."""
    reports = tuple(desk_report(desk, activity, rates) for desk, activity in desks)
    missing = tuple(sorted({c for r in reports for c in r.missing_rates}))
    in_play = {c for r in reports for c in (*r.activity.booked, r.desk.currency)}
    in_play.discard(rates.reporting)
    used = {c: rate for c in sorted(in_play) if (rate := rates.rate(c)) is not None}
    totals = None if missing else total(r.converted or Money() for r in reports)
    return Consolidated(
        period=period,
        reporting=rates.reporting,
        rates=used,
        desks=reports,
        totals=totals,
        missing_rates=missing,
        purchases=sum(r.activity.purchases for r in reports),
        resets=sum(r.activity.resets for r in reports),
        funded=sum(r.activity.funded for r in reports),
        phases=merge_phases(r.activity.phases for r in reports),
        series=None if missing else series(period, rates, [r.activity for r in reports]),
        generated_at=now,
    )


def series(period: Period, rates: Rates, activities: Sequence[DeskActivity]) -> Series:
    """Revenue and payouts over the period, by day, week or month as its length suits."""
    days = [d for a in activities for d in a.days]
    first = period.first or min((d.day for d in days), default=period.last)
    step = granularity(first, period.last)
    starts = buckets(first, period.last, step)
    # Summed per desk, bucket and currency before converting, as the desks' totals are.
    native: dict[tuple[int, date, str], tuple[Decimal, Decimal]] = {}
    for index, activity in enumerate(activities):
        for d in activity.days:
            key = (index, bucket_of(d.day, step), d.currency)
            revenue, payouts = native.get(key, (ZERO, ZERO))
            native[key] = (revenue + d.revenue, payouts + d.payouts)
    revenue_by = dict.fromkeys(starts, ZERO)
    payouts_by = dict.fromkeys(starts, ZERO)
    for (_, start, currency), (revenue, payouts) in native.items():
        if start in revenue_by:
            revenue_by[start] += convert(revenue, currency, rates)
            payouts_by[start] += convert(payouts, currency, rates)
    return Series(step, tuple(starts), tuple(revenue_by.values()), tuple(payouts_by.values()))
