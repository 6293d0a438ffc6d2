"""The payout rail contract: what the core asks of whatever pays traders (Stripe, a bank).

A rail is registered through ``propdesk_register_payout_rails`` and made per desk with
``cls(settings)`` (the desk's settings of the plugin that registered it, secrets still as
``{"env": NAME}`` references); construction does no I/O. The core's own ``bank`` rail needs no
plugin: finance pays by bank transfer and records the bank's reference.

The core calls ``pay`` from its payout worker once a payout is approved, and calls it again,
with the *same* instruction and idempotency key, whenever it cannot know what the last call did
(the worker was killed, the answer was lost). A rail must therefore pay an instruction at most
once however often it is asked: pass ``idempotency_key`` to the provider as its idempotency key,
or look the reference up before paying. The core never makes a fresh key for a retry.

Money is ``Decimal`` in the payout's currency (a rail converts to minor units at the edge);
times are aware UTC datetimes. ``pay`` raises ``PayoutUnavailable`` (unknown outcome: the core
asks again with the same instruction) or ``PayoutRefused`` (the provider refused for good: the
payout fails and finance decides what happens next).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from propdesk.errors import ProviderError

__all__ = [
    "PayoutInstruction",
    "PayoutRail",
    "PayoutRefused",
    "PayoutUnavailable",
    "RailError",
    "RailResult",
]


@dataclass(frozen=True, slots=True)
class PayoutInstruction:
    """One approved payout to pay."""

    #: The core's reference of the payout (``payout:42``); the provider keeps it as metadata.
    reference: str
    #: Sent as the provider's idempotency key; the same for every attempt of this payment.
    idempotency_key: str
    amount: Decimal
    #: ISO 4217, upper case.
    currency: str
    trader_email: str
    trader_name: str
    #: Where the money goes, as the trader gave it and the rail's ``destination_schema``
    #: accepted it (a Stripe connected account ``{"account": "acct_…"}``, an IBAN).
    destination: Mapping[str, Any] = field(default_factory=dict)
    #: What the trader reads on their statement.
    description: str = ""


@dataclass(frozen=True, slots=True)
class RailResult:
    """What the rail did with an instruction."""

    #: ``paid``: the money left (a transfer was made); ``pending``: a person or the provider
    #: still has to act (the core waits for a confirmation).
    status: Literal["paid", "pending"]
    #: The provider's id of the payment (Stripe ``tr_…``, a bank reference); ``None`` while
    #: pending without one.
    rail_reference: str | None
    #: When the provider made the payment (UTC).
    at: datetime
    #: True when the provider recognised the instruction as one it had already paid.
    replayed: bool = False


class RailError(ProviderError):
    """The rail did not pay; ``provider_code`` keeps the provider's own code."""

    title = "Payout rail error"
    slug = "payout-rail-error"


class PayoutUnavailable(RailError):
    """Unreachable, rate-limited, or the outcome is unknown: ask again with the same
    instruction (its idempotency key makes a repeat safe)."""

    status = 503
    title = "Payout rail unavailable"
    slug = "payout-rail-unavailable"


class PayoutRefused(RailError):
    """Refused for good (an invalid destination, insufficient funds at the provider)."""

    status = 409
    title = "Refused by the payout rail"
    slug = "payout-rail-refused"


@runtime_checkable
class PayoutRail(Protocol):
    """Pays approved payouts to traders (transfers, bank, crypto).

    Identity as every component; made per desk with ``cls(settings)``; ``close()`` releases
    connections.
    """

    code: ClassVar[str]
    display_name: ClassVar[str]
    settings_schema: ClassVar[dict[str, Any]]
    #: JSON Schema (2020-12) of what a trader gives as their destination on this rail.
    destination_schema: ClassVar[dict[str, Any]]

    def __init__(self, settings: Mapping[str, Any]) -> None: ...

    async def pay(self, instruction: PayoutInstruction) -> RailResult:
        """Pay ``instruction`` once, however often it is asked (see the module docstring).

        :raises PayoutUnavailable: the outcome is unknown; the core asks again.
        :raises PayoutRefused: the provider refused for good.
        """
        ...

    async def close(self) -> None:
        """Release connections; idempotent."""
        ...
