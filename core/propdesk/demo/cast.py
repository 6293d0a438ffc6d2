"""Who trades in the demo: each desk's cast, in order of arrival, then more of the same.

A persona buys one product and trades it in a profile of the platform simulators
(``propdesk.simulators.TRADER_PROFILES``): passers pass and, funded, ask for payouts; breachers
break a loss limit. A desk the demo has no cast for gets one from its products.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

from propdesk.simulators import TRADER_PROFILES


@dataclass(frozen=True)
class Persona:
    name: str
    product: str
    size: str
    #: How they trade an evaluation, and a funded account.
    profile: str
    funded: str = "passer"
    country: str = "GB"

    def email(self, desk: str, round_: int) -> str:
        first = self.name.split()[0].lower()
        return f"{first}{round_ or ''}@traders.{desk.replace('_', '-')}.demo"

    def full_name(self, round_: int) -> str:
        return f"{self.name} {round_ + 1}" if round_ else self.name


CASTS: dict[str, tuple[Persona, ...]] = {
    "aurora_fx": (
        Persona("Ana Passer", "sprint", "10k", "passer", country="PT"),
        Persona("Ben Breacher", "sprint", "10k", "breacher"),
        Persona("Chloe Steady", "two-step", "100k", "steady", country="FR"),
        Persona("Dario Passer", "sprint", "25k", "passer", country="IT"),
        Persona("Elif Gambler", "one-step-eod", "25k", "gambler", country="TR"),
        Persona("Femi Steady", "instant-funding", "10k", "steady", country="NG"),
    ),
    "summit_futures": (
        Persona("Gus Breacher", "combine", "50k", "breacher", country="US"),
        Persona("Hana Steady", "combine", "50k", "steady", country="JP"),
        Persona("Ivo Gambler", "combine", "100k", "gambler", country="CZ"),
    ),
}


def cast_of(desk: str, products: dict[str, dict[str, Any]]) -> tuple[Persona, ...]:
    """The desk's cast: its own, or one persona per profile on its first product."""
    if desk in CASTS and all(p.product in products for p in CASTS[desk]):
        return CASTS[desk]
    if not products:
        return ()
    code = sorted(products)[0]
    size = products[code]["sizes"][0]["code"]
    return tuple(Persona(f"{p.title()} Trader", code, size, p) for p in TRADER_PROFILES)


def arrivals(desk: str, products: dict[str, dict[str, Any]]) -> Iterator[tuple[Persona, int]]:
    """``(persona, round)`` for ever: the cast, then the cast again (round 1, 2, ...)."""
    cast = cast_of(desk, products)
    for round_ in count() if cast else ():
        for persona in cast:
            yield persona, round_
