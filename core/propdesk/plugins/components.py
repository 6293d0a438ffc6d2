"""What every registered component has in common, and the kinds of component.

A component is a class a plugin registers (a platform adapter, a KYC provider, ...). The core
keys each kind by ``code``; two components of one kind with the same code abort startup. The
methods each kind must implement are pinned down by that kind's contract suite in
``propdesk.testing``, which vendors run against their own adapters.

``PlatformAdapter`` is defined with its value types and errors in ``propdesk.platforms.contract``,
``PaymentProvider`` in ``propdesk.payments.contract``, ``KycProvider`` in
``propdesk.kyc.contract``, ``PayoutRail`` in ``propdesk.payouts.contract``; all are
re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from propdesk.kyc.contract import KycProvider
from propdesk.payments.contract import PaymentProvider
from propdesk.payouts.contract import PayoutRail
from propdesk.platforms.contract import PlatformAdapter

if TYPE_CHECKING:
    from propdesk.notifications.message import Delivery, Notification
    from propdesk.rules.calendar import CalendarRelease

__all__ = [
    "KINDS",
    "CommissionPlan",
    "Component",
    "EconomicCalendar",
    "KycProvider",
    "NotificationChannel",
    "PaymentProvider",
    "PayoutRail",
    "PlatformAdapter",
    "RuleFamily",
]


@runtime_checkable
class Component(Protocol):
    """Identity and per-tenant settings of a registered component."""

    #: Stable lowercase identifier, stored in the database (``mt5``, ``stripe``).
    code: ClassVar[str]
    #: Name shown to staff.
    display_name: ClassVar[str]
    #: JSON Schema (2020-12) of this component's per-tenant settings; ``{}`` accepts none.
    settings_schema: ClassVar[dict[str, Any]]


class RuleFamily(Component, Protocol):
    """A family of challenge rules (daily loss, max loss, ...): pure evaluation and explain.

    Implementations derive from ``propdesk.rules.family.RuleFamily``, which defines the
    evaluation contract (``on_event``, ``next_due``/``on_due``, ``objective``, ``describe``).
    """


class CommissionPlan(Component, Protocol):
    """Computes partner (affiliate / IB) commissions."""


class NotificationChannel(Component, Protocol):
    """Delivers notifications to traders and staff (e-mail, ...).

    Made per tenant from the settings of the plugin that registered it: ``cls(settings)``, with
    secrets still as ``{"env": NAME}`` references: the channel resolves them when it sends and
    never keeps their values. Invalid settings raise ``propdesk.errors.InvalidInput`` naming each
    field by its JSON pointer. ``propdesk.notifications.desk_channels`` builds a desk's channels.
    """

    async def send(self, notification: Notification) -> Delivery:
        """Deliver ``notification`` to its recipients; called from the outbox, at least once.

        The same notification may be sent again after a failure or a crash: derive what the
        recipient sees as the message's identity (an e-mail Message-ID) from
        ``notification.idempotency_key`` so that a repeat is recognisable.

        :returns: What the service accepted: the channel's code, the message id and the
            accepted recipients (and those refused while others were accepted).
        :raises propdesk.notifications.PermanentDeliveryError: retrying cannot succeed (a 5xx
            refusal, an invalid address).
        :raises propdesk.notifications.TemporaryDeliveryError: retry later with back-off
            (unreachable, timed out, a 4xx refusal, credentials refused, a secret not set).
        """
        ...


class EconomicCalendar(Component, Protocol):
    """Lists scheduled economic releases for news-window rules (a vendor's feed, ``static``).

    Made per tenant from the settings of the plugin that registered it: ``cls(settings)``.
    """

    async def releases(self, start: datetime, end: datetime) -> list[CalendarRelease]:
        """Releases at or after ``start`` and before ``end``, by time.

        Impacts are mapped onto ``high``, ``medium`` and ``low``; symbols are the instruments
        each release moves, as the desk's platform names them.
        """
        ...


#: Every kind the core registers, by the registration hook that supplies it.
KINDS: dict[str, type] = {
    "propdesk_register_platforms": PlatformAdapter,
    "propdesk_register_rule_families": RuleFamily,
    "propdesk_register_kyc_providers": KycProvider,
    "propdesk_register_payment_providers": PaymentProvider,
    "propdesk_register_payout_rails": PayoutRail,
    "propdesk_register_commission_plans": CommissionPlan,
    "propdesk_register_notification_channels": NotificationChannel,
    "propdesk_register_economic_calendars": EconomicCalendar,
}
