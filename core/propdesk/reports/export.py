"""The consolidated report as CSV: one row per desk and a total row. Pure, no I/O.

Amounts are Decimal strings as booked (``1234.50``), ratios to four places (``0.3125``); an
empty cell is a figure that cannot be given (no revenue to divide by, no conversion rate).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from propdesk.reports.figures import Consolidated, Money, PhaseOutcome

AMOUNTS = ("revenue", "refunds", "chargebacks", "net_revenue", "payouts", "paid_out")
#: Spreadsheets run a cell that starts with these as a formula.
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def filename(report: Consolidated) -> str:
    period = report.period
    first = period.first.isoformat() if period.first else "start"
    return f"propdesk-consolidated-{first}-to-{period.last.isoformat()}.csv"


def csv_text(report: Consolidated) -> str:
    phases = [p.phase for p in report.phases]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_header(report.reporting, phases))
    for desk in report.desks:
        activity = desk.activity
        note = (
            f"no conversion rate for {', '.join(desk.missing_rates)}" if desk.missing_rates else ""
        )
        writer.writerow(
            [
                _text(desk.desk.name),
                desk.desk.slug,
                desk.desk.status,
                desk.desk.currency,
                *_money(desk.own),
                *_money(desk.converted),
                activity.purchases,
                activity.resets,
                activity.funded,
                *_phases(activity.phases, phases),
                note,
            ]
        )
    missing = ", ".join(report.missing_rates)
    writer.writerow(
        [
            "Total",
            "",
            "",
            report.reporting,
            *_money(report.totals),
            *_money(report.totals),
            report.purchases,
            report.resets,
            report.funded,
            *_phases(report.phases, phases),
            f"incomplete: no conversion rate for {missing}" if missing else "",
        ]
    )
    return out.getvalue()


def _header(reporting: str, phases: list[int]) -> list[str]:
    own = [*AMOUNTS, "payout_to_revenue"]
    converted = [f"{name}_{reporting.lower()}" for name in own]
    per_phase = [f"phase_{p}_{what}" for p in phases for what in ("passed", "ended", "pass_rate")]
    return [
        "desk",
        "slug",
        "status",
        "currency",
        *own,
        *converted,
        "purchases",
        "resets",
        "funded_accounts",
        *per_phase,
        "note",
    ]


def _cell(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _money(money: Money | None) -> list[str]:
    if money is None:
        return [""] * (len(AMOUNTS) + 1)
    return [_cell(getattr(money, name)) for name in AMOUNTS] + [_cell(money.payout_ratio)]


def _phases(outcomes: Iterable[PhaseOutcome], phases: list[int]) -> list[str | int]:
    by_phase = {o.phase: o for o in outcomes}
    cells: list[str | int] = []
    for phase in phases:
        o = by_phase.get(phase, PhaseOutcome(phase, 0, 0))
        cells += [o.passed, o.ended, _cell(o.rate)]
    return cells


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA) else value
