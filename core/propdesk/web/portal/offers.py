"""The desk's products as a trader shops for them: sizes and add-ons with their prices, in the
currencies the product is sold in. Pure: shapes the published content, decides nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from propdesk.catalogue.models import CatalogueVersion
from propdesk.catalogue.rulebook import markdown_to_html
from propdesk.kyc.gates import held


@dataclass(frozen=True, slots=True)
class Priced:
    code: str
    name: str
    #: Price by currency code.
    prices: Mapping[str, Decimal]
    #: A size's starting balance (None for an add-on).
    balance: Decimal | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    code: str
    name: str
    version: int | None
    currency: str
    #: The product's description, as HTML from its Markdown (raw HTML escaped).
    description: str
    phases: tuple[tuple[str, str], ...]
    sizes: tuple[Priced, ...]
    addons: tuple[Priced, ...]
    #: Currencies every size is priced in, the account's currency first.
    currencies: tuple[str, ...]
    #: The currency prices are shown and preselected in: the desk's when the product is sold
    #: in it, else the product's first.
    shown: str
    #: Why the trader cannot buy it yet (an identity check first), or "".
    hold: str = ""

    @property
    def from_price(self) -> Decimal | None:
        """The cheapest size, in ``shown``."""
        prices = [s.prices[self.shown] for s in self.sizes if self.shown in s.prices]
        return min(prices) if prices else None


def _priced(entries: Sequence[Mapping[str, Any]], *, sizes: bool) -> tuple[Priced, ...]:
    return tuple(
        Priced(
            code=str(e["code"]),
            name=str(e.get("name") or e["code"]),
            prices={c: Decimal(str(v)) for c, v in (e.get("prices") or {}).items()},
            balance=Decimal(str(e["balance"])) if sizes else None,
            description=str(e.get("description") or ""),
        )
        for e in entries
    )


def offer_of(
    row: CatalogueVersion,
    desk_currency: str,
    kyc_status: str | None = None,
    reason: str | None = None,
) -> Offer:
    """The product of a published version; ``kyc_status`` (a signed-in trader's) fills
    ``hold`` when the product wants an identity check before purchase."""
    content = row.content
    sizes = _priced(content.get("sizes") or (), sizes=True)
    account_currency = str(content.get("currency") or "")
    shared = set.intersection(*(set(s.prices) for s in sizes)) if sizes else set()
    currencies = tuple(sorted(shared, key=lambda c: (c != account_currency, c)))
    hold = held(content, "purchase", kyc_status, reason) if kyc_status is not None else None
    return Offer(
        code=row.product_code,
        name=str(content.get("name") or row.product_code),
        version=row.version,
        currency=account_currency,
        description=markdown_to_html(str(content.get("description") or "")),
        phases=tuple((str(p.get("name") or p["code"]), str(p["kind"])) for p in content["phases"]),
        sizes=sizes,
        addons=_priced(content.get("addons") or (), sizes=False),
        currencies=currencies,
        shown=desk_currency if desk_currency in currencies or not currencies else currencies[0],
        hold=hold or "",
    )
