"""The Propdesk plugin contract: every hook a plugin may implement.

This module is the single, documented contract between the core and plugins. Hooks come in two
kinds, told apart by their names:

``propdesk_register_*``
    Registration hooks. Synchronous, called once per process at startup (by the web server,
    the worker and the CLI alike). They return things (classes, permissions, routes, jobs) and
    never do I/O. Results of all plugins are merged; a duplicate ``code`` aborts startup.

``propdesk_on_*``
    Runtime hooks. Called per tenant, only for plugins enabled for that tenant. They may be
    ``async def`` (the core awaits what they return). They run after the transaction that
    caused them committed, at least once: implementations must be idempotent.

Rules for implementers: decorate every implementation with ``propdesk.hookimpl`` (an unknown
hook name aborts startup), accept only the arguments you use (arguments may be added to a hook,
never removed or renamed), and give them no default values. Network I/O lives in adapter
classes, not in hooks: hooks register, adapters act.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from propdesk.plugins.markers import hookspec

if TYPE_CHECKING:
    import click
    from litestar.types import ControllerRouterHandler

    from propdesk.access.permissions import Permission
    from propdesk.db.migrate import MigrationLocation
    from propdesk.outbox.events import DomainEvent
    from propdesk.plugins.components import (
        CommissionPlan,
        EconomicCalendar,
        KycProvider,
        NotificationChannel,
        PaymentProvider,
        PayoutRail,
        PlatformAdapter,
        RuleFamily,
    )
    from propdesk.runtime import Runtime
    from propdesk.simulators import Simulator
    from propdesk.tenancy.context import TenantContext
    from propdesk.worker.jobs import JobDefinition

#: Bumped when the contract changes incompatibly; vendors pin ``propdesk`` to a compatible range.
PLUGIN_API_VERSION = 1

# ---------------------------------------------------------------------------------------------
# Registration hooks: synchronous, once per process at startup, no I/O.
# ---------------------------------------------------------------------------------------------


@hookspec
def propdesk_register_platforms() -> list[type[PlatformAdapter]]:
    """Register trading-platform adapter classes (MT5, MT4, cTrader, ...).

    Called once per process at startup; synchronous. Adapters are keyed by their ``code``; two
    adapters with the same code abort startup. A tenant uses an adapter only when the plugin
    that registered it is enabled in the tenant's manifest.

    The core makes one adapter per desk with ``cls(settings)`` (the desk's settings of the plugin,
    secrets still as references: resolve them with ``propdesk.tenancy.secrets.resolve_secrets``
    when connecting) and awaits its ``async def`` methods from the worker: create an account for
    a phase, deposit and withdraw idempotently by the core's reference, disable and enable
    trading, close all positions, read balance, equity and positions, and hand over the engine's
    events (``account_opened``, ``deal``, ``snapshot``, ``balance``) with a durable cursor. What
    each method must guarantee (at-least-once safety, UTC times, typed errors keeping the
    vendor's code) is written in ``propdesk.platforms.contract``;
    ``propdesk.testing.platform.RecordingPlatform`` implements it in memory for tests.

    :returns: Adapter classes implementing ``propdesk.platforms.contract.PlatformAdapter``
        (re-exported as ``propdesk.plugins.components.PlatformAdapter``).

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_rule_families() -> list[type[RuleFamily]]:
    """Register challenge rule families (daily loss, max loss, profit target, ...).

    Called once per process at startup; synchronous. Families are keyed by ``code``; their
    ``settings_schema`` is the JSON Schema of the rule's parameters and is composed into the
    catalogue schema. A duplicate code aborts startup.

    :returns: Subclasses of ``propdesk.rules.family.RuleFamily`` (see "Write a rule family").

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_economic_calendars() -> list[type[EconomicCalendar]]:
    """Register economic calendars: sources of the scheduled releases news-window rules read.

    Called once per process at startup; synchronous. Keyed by ``code``; duplicates abort
    startup. A calendar maps its source's impact scale onto ``high``, ``medium`` and ``low`` and
    each release onto the instruments it moves; the engine writes the releases into the
    accounts' journals as ``news`` events ahead of their time. Fetching happens in the
    calendar's ``async def releases``, never in the hook.

    :returns: Classes implementing ``propdesk.plugins.components.EconomicCalendar``.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_kyc_providers() -> list[type[KycProvider]]:
    """Register identity-verification (KYC) providers.

    Called once per process at startup; synchronous. Keyed by ``code``; duplicates abort
    startup. A desk uses a provider when it enables the plugin that registered it. The core
    makes one per desk with ``cls(settings)``, starts a trader's check (``start``: one
    applicant per trader, a fresh SDK token), reads the verdict (``check``) and verifies the
    provider's webhooks (``parse_webhook``) arriving at ``POST /api/kyc/<code>/webhook/<desk>``;
    each webhook makes the core read the verdict again, so repeats and late deliveries settle on
    the provider's truth. What each method guarantees is written in ``propdesk.kyc.contract``.

    :returns: Classes implementing ``propdesk.kyc.contract.KycProvider`` (re-exported as
        ``propdesk.plugins.components.KycProvider``).

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_payment_providers() -> list[type[PaymentProvider]]:
    """Register payment providers that take traders' payments (PSPs).

    Called once per process at startup; synchronous. Keyed by ``code``; duplicates abort
    startup. A desk uses a provider when it enables the plugin that registered it. The core
    makes one per desk with ``cls(settings)`` and asks it for hosted checkouts of orders
    (``create_checkout``), refunds (``refund``), and to verify and read the provider's webhooks
    (``parse_webhook``), which arrive at ``POST /api/payments/<code>/webhook/<desk>``; the core
    records each event id once and acts on it (pays the order, posts the ledger, closes or
    freezes the challenge). What each method guarantees is written in
    ``propdesk.payments.contract``.

    :returns: Classes implementing ``propdesk.payments.contract.PaymentProvider`` (re-exported
        as ``propdesk.plugins.components.PaymentProvider``).

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_payout_rails() -> list[type[PayoutRail]]:
    """Register payout rails that pay approved payouts to traders (transfers, crypto).

    Called once per process at startup; synchronous. Keyed by ``code``; duplicates abort
    startup; ``bank`` is the core's own rail (finance pays and records the bank's reference). A
    desk offers a rail when it enables the plugin that registered it. The core makes one per
    desk with ``cls(settings)``, checks the trader's destination against the rail's
    ``destination_schema`` when the payout is requested, and calls ``pay`` from its payout
    worker once the payout is approved, with the same idempotency key on every attempt: a rail
    must pay an instruction at most once however often it is asked. What ``pay`` guarantees is
    written in ``propdesk.payouts.contract``.

    :returns: Classes implementing ``propdesk.payouts.contract.PayoutRail`` (re-exported as
        ``propdesk.plugins.components.PayoutRail``).

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_commission_plans() -> list[type[CommissionPlan]]:
    """Register partner commission plans (affiliate CPA, revenue share, IB tiers, ...).

    Called once per process at startup; synchronous. Keyed by ``code``; duplicates abort
    startup.

    :returns: Classes implementing ``propdesk.plugins.components.CommissionPlan``.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_notification_channels() -> list[type[NotificationChannel]]:
    """Register notification channels (e-mail, chat, SMS, ...).

    Called once per process at startup; synchronous. Keyed by ``code``; duplicates abort
    startup. A channel is built per desk as ``cls(settings)`` from the desk's settings of the
    plugin that registered it (secrets still as references, resolved when sending), and sends in
    its ``async def send(notification) -> Delivery``, never in the hook. Sends come from the
    outbox, at least once: the channel derives the message's identity from
    ``notification.idempotency_key``, and raises ``PermanentDeliveryError`` (do not retry) or
    ``TemporaryDeliveryError`` (retry later) from ``propdesk.notifications``.

    :returns: Classes implementing ``propdesk.plugins.components.NotificationChannel``.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_permissions() -> list[Permission]:
    """Declare the permissions this plugin's routes and actions check.

    Called once per process at startup; synchronous. A permission is ``(object, action)``, e.g.
    ``("payouts", "approve")``, with a description and the default roles that hold it; default
    roles are granted it in every tenant by ``propdesk tenants apply``. Declaring a permission
    the core or another plugin already declared aborts startup.

    :returns: ``propdesk.access.permissions.Permission`` values.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_routes() -> list[ControllerRouterHandler]:
    """Add HTTP routes (webhooks, admin endpoints) to the web application.

    Called once per process at startup; synchronous. Routes are mounted under
    ``/plugins/<plugin name>``. Every handler must declare its permission with
    ``opt=propdesk.access.permissions.requires(...)`` (or ``public()``, for webhooks that verify
    their own signatures); a handler without one aborts startup.

    :returns: Litestar controllers, routers or route handlers.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_jobs() -> list[JobDefinition]:
    """Add background jobs (pollers, reconcilers) and cron schedules to ``propdesk worker``.

    Called once per process at startup; synchronous. Jobs run at least once: make them safe to
    run twice. A tenant job receives the tenant slug as its first argument after ``ctx``; wrap it
    in ``propdesk.worker.tenant_job`` so it runs in that tenant's context. Duplicate job names
    abort startup.

    :returns: ``propdesk.worker.jobs.JobDefinition`` values.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``propdesk`` command line.

    Called once when the CLI starts; synchronous. Add a ``click`` group named after the plugin
    rather than many top-level commands.

    :param cli: The root ``propdesk`` click group.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_migrations() -> list[MigrationLocation]:
    """Ship Alembic migrations for tables this plugin owns.

    Called once per process at startup; synchronous. Each location is a folder of Alembic
    revision files forming a branch with its own label, for the shared schema or for every
    tenant schema. ``propdesk db upgrade`` and ``propdesk tenants apply`` run them with the
    core's.

    :returns: ``propdesk.db.migrate.MigrationLocation`` values.

    .. versionadded:: 0.1
    """


@hookspec
def propdesk_register_simulators() -> list[type[Simulator]]:
    """Register simulators of the services this plugin integrates, for ``propdesk demo``.

    Called by the commands that run simulators (``propdesk demo``, ``propdesk chaos``), not by
    the web server or the worker; synchronous, no I/O (import the simulator inside the hook so
    other processes never load it). Keyed by ``code``; duplicates abort the command.

    A simulator speaks the vendor's real wire protocol on a local port. The core makes one per
    desk with ``cls(setup)`` (``propdesk.simulators.SimulatorSetup``: the desk, where Propdesk
    answers webhooks, the prefix of its secrets' variables, the platform groups to create, the
    market's pace), calls ``start()`` (serving in a background thread, ready on return), and
    overlays the desk's ``[plugins.<plugin>]`` table with ``desk_settings()`` (settings with
    ``{ env = "NAME" }`` secrets, and the values to set). It drives it through the roles the
    class implements, each an ``async def`` over the simulator's control API: a platform's
    traders trade (``start_trader``), a PSP's checkout is paid (``pay_checkout``), a KYC
    applicant is approved (``approve_applicant``), a payout rail names a trader's destination
    (``payout_destination``). ``stop()`` ends it. ``propdesk.simulators.ServedSimulator`` does
    the starting and stopping around a simulator's ``running_simulator`` context manager.

    :returns: Classes implementing ``propdesk.simulators.Simulator`` and some of its roles
        (``PlatformSimulator``, ``PaymentSimulator``, ``KycSimulator``,
        ``PayoutRailSimulator``).

    .. versionadded:: 0.2
    """


@hookspec
def propdesk_register_settings_schema() -> dict[str, Any]:
    """Declare the JSON Schema (2020-12) of this plugin's per-tenant settings.

    Called once per process at startup; synchronous. A tenant's manifest enables the plugin with
    a ``[plugins.<name>]`` table; ``propdesk tenants apply`` validates that table against this
    schema and refuses the manifest, naming the file and the field, when it does not match.
    Secrets are never values: declare them with ``propdesk.tenancy.secrets.SECRET_REF`` so a
    manifest writes ``{ env = "VARIABLE" }`` and the value is read from the environment at use.
    An invalid schema aborts startup. A plugin that implements no such hook takes no settings.

    :returns: A JSON Schema object.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------------------------
# Runtime hooks: per tenant, after commit, at least once; may be async.
# ---------------------------------------------------------------------------------------------


@hookspec
def propdesk_on_event(
    tenant: TenantContext, event: DomainEvent, runtime: Runtime
) -> Awaitable[None] | None:
    """React to a domain event after the transaction that recorded it committed.

    Called by ``propdesk worker`` from the tenant's outbox, never inside a request, and only for
    plugins enabled for the tenant. May be ``async def``. Runs at least once per event: use
    ``event.event_id`` to make the reaction idempotent. Raising makes the worker retry the event
    for this plugin only (with back-off); plugins that succeeded are not called again.

    :param tenant: The tenant the event belongs to (slug, schema, this plugin's settings).
    :param event: The committed event: ``name`` (e.g. ``"desk.provisioned"``), ``payload``,
        ``event_id``, ``occurred_at`` and ``first_delivery`` (true when it comes straight from
        the commit that recorded it, in the same process: nobody has handled it yet and the
        payload is the state now; false from the outbox, where reading back is due).
    :param runtime: The process's handles (database, job queue, plugin host), for reactions
        that read or write the desk's data. Declare it only if you need it.
    :returns: Nothing, or an awaitable that the worker awaits.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``runtime``
    """
