"""Pure parts of the consolidated report: periods and their buckets, conversion at the
configured rates (totals always add up to the desks shown), the settings that hold the rates,
and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from propdesk.errors import InvalidInput
from propdesk.reports import export
from propdesk.reports.conversion import Rates, convert
from propdesk.reports.figures import (
    Desk,
    DeskActivity,
    Money,
    PhaseOutcome,
    consolidate,
    total,
)
from propdesk.reports.period import Period, bucket_of, buckets, granularity, period_of
from propdesk.settings import Settings

D = Decimal
TODAY = date(2025, 3, 19)
NOW = datetime(2025, 3, 19, 12, tzinfo=UTC)
RATES = Rates("USD", {"EUR": D("1.08"), "GBP": D("1.27"), "JPY": D("0.0067")})


# -- periods ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("preset", "first"),
    [
        (None, date(2025, 3, 1)),
        ("mtd", date(2025, 3, 1)),
        ("7d", date(2025, 3, 13)),
        ("30d", date(2025, 2, 18)),
        ("90d", date(2024, 12, 20)),
        ("all", None),
    ],
)
def test_presets_end_today(preset: str | None, first: date | None) -> None:
    period = period_of(preset=preset, first=None, last=None, today=TODAY)
    assert (period.first, period.last) == (first, TODAY)
    assert period.end == datetime(2025, 3, 20, tzinfo=UTC)


def test_explicit_dates_make_a_custom_period_and_bad_ones_name_their_field() -> None:
    period = period_of(preset=None, first="2025-01-01", last="2025-01-31", today=TODAY)
    assert period == Period("custom", date(2025, 1, 1), date(2025, 1, 31))
    assert period.label == "2025-01-01 to 2025-01-31"
    assert period_of(preset="custom", first="2025-01-01", last="", today=TODAY).last == TODAY
    # A preset picked over the dates left in the form wins.
    assert period_of(preset="7d", first="2025-01-01", last="", today=TODAY).preset == "7d"
    with pytest.raises(InvalidInput) as undated:
        period_of(preset="custom", first="", last="", today=TODAY)
    assert undated.value.problems[0].field == "from"
    with pytest.raises(InvalidInput) as bad:
        period_of(preset=None, first="2025-02-30", last="soon", today=TODAY)
    assert [p.field for p in bad.value.problems] == ["from", "to"]
    with pytest.raises(InvalidInput) as backwards:
        period_of(preset=None, first="2025-02-01", last="2025-01-01", today=TODAY)
    assert backwards.value.problems[0].field == "to"
    with pytest.raises(InvalidInput) as unknown:
        period_of(preset="year", first=None, last=None, today=TODAY)
    assert unknown.value.problems[0].field == "period"


def test_buckets_are_days_then_weeks_then_months() -> None:
    assert granularity(date(2025, 1, 1), date(2025, 3, 3)) == "day"
    assert granularity(date(2025, 1, 1), date(2025, 3, 4)) == "week"
    assert granularity(date(2023, 1, 1), date(2025, 1, 1)) == "month"
    assert bucket_of(date(2025, 3, 19), "week") == date(2025, 3, 17)
    assert buckets(date(2024, 11, 30), date(2025, 2, 1), "month") == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]
    assert len(buckets(date(2025, 3, 1), date(2025, 3, 19), "day")) == 19


# -- conversion -------------------------------------------------------------------------------
def test_conversion_rounds_each_amount_to_the_cent_once() -> None:
    assert convert(D("100.00"), "EUR", RATES) == D("108.00")
    assert convert(D("0.05"), "JPY", RATES) == D("0.00")
    assert convert(D("12.34"), "USD", RATES) == D("12.34")
    assert convert(D("108.00"), "USD", RATES, into="EUR") == D("100.00")
    assert convert(D("127.00"), "GBP", RATES, into="EUR") == D("149.34")  # 161.29 USD / 1.08
    with pytest.raises(KeyError, match="CHF"):
        convert(D(1), "CHF", RATES)
    assert RATES.missing({"USD", "EUR", "CHF", "AUD"}) == ("AUD", "CHF")


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
monies = st.builds(Money, amounts, amounts, amounts, amounts, amounts)
currencies = st.sampled_from(["USD", "EUR", "GBP", "JPY"])
desks = st.lists(st.tuples(currencies, st.dictionaries(currencies, monies, max_size=3)), max_size=6)


@given(desks)
def test_totals_are_the_sum_of_the_converted_desks(made: list) -> None:
    found = consolidate(
        Period("mtd", date(2025, 3, 1), TODAY),
        RATES,
        [(Desk(f"d{i}", f"Desk {i}", c), DeskActivity(booked=b)) for i, (c, b) in enumerate(made)],
        NOW,
    )
    assert found.totals == total(d.converted or Money() for d in found.desks)
    for desk in found.desks:
        booked = desk.activity.booked
        assert desk.converted == total(m.converted(c, RATES) for c, m in booked.items())
        if set(booked) <= {desk.desk.currency}:
            assert desk.own == booked.get(desk.desk.currency, Money())


def test_ratios_without_revenue_are_none_and_phases_add_up() -> None:
    assert Money(payouts=D("10.00")).payout_ratio is None
    found = consolidate(
        Period("mtd", date(2025, 3, 1), TODAY),
        RATES,
        [
            (Desk("a", "A", "EUR"), DeskActivity(phases=(PhaseOutcome(1, 1, 4),), funded=2)),
            (
                Desk("b", "B", "USD"),
                DeskActivity(phases=(PhaseOutcome(1, 2, 2), PhaseOutcome(2, 0, 0))),
            ),
        ],
        NOW,
    )
    assert found.phases == (PhaseOutcome(1, 3, 6), PhaseOutcome(2, 0, 0))
    assert [p.rate for p in found.phases] == [D("0.5000"), None]
    assert found.totals == Money() and found.funded == 2
    empty = consolidate(Period("all", None, TODAY), RATES, [], NOW)
    assert (empty.desks, empty.totals, empty.phases) == ((), Money(), ())
    assert empty.series is not None and empty.series.starts == (TODAY,)


# -- settings ---------------------------------------------------------------------------------
def test_rates_are_read_as_json_or_pairs_and_stay_decimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPDESK_CONVERSION_RATES", '{"EUR": 1.08, "GBP": "1.27"}')
    assert Settings().conversion_rates == {"EUR": D("1.08"), "GBP": D("1.27")}
    monkeypatch.setenv("PROPDESK_CONVERSION_RATES", "EUR=1.0800, JPY=0.0067")
    monkeypatch.setenv("PROPDESK_REPORTING_CURRENCY", "GBP")
    settings = Settings()
    assert settings.conversion_rates == {"EUR": D("1.0800"), "JPY": D("0.0067")}
    assert Rates.from_settings(settings).reporting == "GBP"


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ("EUR=abc", "EUR converts at 'abc', not a number"),
        ("EUR=0", "EUR converts at 0: a rate is a positive number"),
        ("eur=1.08", "eur is not a three-letter ISO 4217 code"),
        ("EUR", "'EUR' is not CODE=RATE"),
        ('{"EUR": 1.08', "not valid JSON"),
        ("USD=1.10", "USD is the reporting currency: its rate is 1"),
    ],
)
def test_bad_rates_stop_startup_naming_the_currency(
    monkeypatch: pytest.MonkeyPatch, rates: str, message: str
) -> None:
    monkeypatch.setenv("PROPDESK_CONVERSION_RATES", rates)
    with pytest.raises(ValidationError, match=message):
        Settings()


# -- CSV --------------------------------------------------------------------------------------
def test_the_csv_has_a_row_per_desk_and_a_total_row() -> None:
    eur = Money(revenue=D("1000.00"), refunds=D("100.00"), payouts=D("250.00"))
    found = consolidate(
        Period("custom", date(2025, 3, 1), date(2025, 3, 19)),
        RATES,
        [
            (Desk("a", "=HYPERLINK(x)", "EUR"), DeskActivity(booked={"EUR": eur}, purchases=3)),
            (Desk("b", "Beta", "USD"), DeskActivity(phases=(PhaseOutcome(1, 1, 2),))),
        ],
        NOW,
    )
    assert export.filename(found) == "propdesk-consolidated-2025-03-01-to-2025-03-19.csv"
    rows = list(csv.DictReader(io.StringIO(export.csv_text(found))))
    assert [r["desk"] for r in rows] == ["'=HYPERLINK(x)", "Beta", "Total"]
    first, beta, totals = rows
    assert (first["currency"], first["revenue"], first["net_revenue"]) == (
        "EUR",
        "1000.00",
        "900.00",
    )
    assert (first["revenue_usd"], first["payouts_usd"], first["payout_to_revenue"]) == (
        "1080.00",
        "270.00",
        "0.2500",
    )
    assert (beta["revenue"], beta["payout_to_revenue"], beta["phase_1_pass_rate"]) == (
        "0.00",
        "",
        "0.5000",
    )
    assert (totals["currency"], totals["revenue_usd"], totals["purchases"]) == (
        "USD",
        "1080.00",
        "3",
    )
    assert totals["phase_1_passed"] == "1" and totals["note"] == ""


def test_the_csv_leaves_unconvertible_cells_empty_and_says_why() -> None:
    found = consolidate(
        Period("all", None, TODAY),
        Rates("USD", {}),
        [(Desk("a", "Alpha", "EUR"), DeskActivity(booked={"EUR": Money(revenue=D("5.00"))}))],
        NOW,
    )
    alpha, totals = list(csv.DictReader(io.StringIO(export.csv_text(found))))
    assert (alpha["revenue"], alpha["revenue_usd"]) == ("5.00", "")
    assert alpha["note"] == "no conversion rate for EUR"
    assert (totals["revenue"], totals["note"]) == ("", "incomplete: no conversion rate for EUR")
    assert export.filename(found) == "propdesk-consolidated-start-to-2025-03-19.csv"
