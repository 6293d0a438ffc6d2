"""Converting desks' money into the reporting currency at the configured rates: pure, no I/O.

A rate is how many reporting-currency units one unit of a currency is worth (``EUR 1.08``
with a USD reporting currency: 100.00 EUR is 108.00 USD). Each converted amount is rounded to
the cent once, half to even; a total is the sum of the rounded amounts, so the totals always
add up to the desks shown above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from propdesk.settings import Settings

CENT = Decimal("0.01")
ONE = Decimal(1)


@dataclass(frozen=True)
class Rates:
    #: ISO 4217 code of the currency totals are shown in.
    reporting: str
    #: Reporting-currency units per unit of each other currency.
    per_unit: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Rates:
        return cls(settings.reporting_currency, dict(settings.conversion_rates))

    def rate(self, currency: str) -> Decimal | None:
        """What one unit of ``currency`` is worth in the reporting currency (None: no rate)."""
        if currency == self.reporting:
            return ONE
        return self.per_unit.get(currency)

    def missing(self, currencies: set[str] | frozenset[str]) -> tuple[str, ...]:
        """Those of ``currencies`` without a rate, sorted."""
        return tuple(sorted(c for c in currencies if self.rate(c) is None))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def convert(amount: Decimal, currency: str, rates: Rates, into: str | None = None) -> Decimal:
    """``amount`` of ``currency`` in ``into`` (default the reporting currency), to the cent.

    Between two currencies that are not the reporting one it goes through their rates
    (a cross rate). ``KeyError`` names the currency without a rate: check ``Rates.missing``
    first.
    """
    target = into or rates.reporting
    if currency == target:
        return amount
    source_rate, target_rate = rates.rate(currency), rates.rate(target)
    if source_rate is None or target_rate is None:
        raise KeyError(currency if source_rate is None else target)
    return cents(amount * source_rate / target_rate)
