"""What follows a challenge's lifecycle events: platform actions, provisioning, notifications.

Registered as the core plugin ``propdesk.actions``; it reacts to the outbox events
``challenge.<event>`` that the lifecycle service emits, after their commit, at least once:

=================== ===========================================================================
breached            disable trading; close every position unless the phase's
                    ``on_breach.close_positions`` is false; tell the trader and risk staff
paused              disable trading; tell the trader and risk staff
expired             disable trading; tell the trader and risk staff
resumed, reinstate  enable trading; tell the trader
passed              disable trading on the passed account; tell the trader; move the challenge
                    to its next phase (``NextPhase``) and provision that phase's account
paid, next_phase,   provision the account of the current phase attempt (its credentials are
reset, scaled       the trader's message; a scaled phase's account has the plan's balance)
=================== ===========================================================================

Every step is done once per event: a finished step is recorded in the event's deliveries (as
``propdesk.actions#<step>``, next to the plugins that handled it), so a repeated delivery
skips it. A step whose outcome is lost in a crash is done again; platform commands are
idempotent and an e-mail repeats with the same Message-ID. Platform state changes are audited
and emitted as domain events (``account.trading_disabled``, ``account.positions_closed``,
``account.trading_enabled``, ``account.action_refused``) for later plugins.

Before acting on an account, the challenge's state now is checked: a trading-rights command
that a later event superseded (a resume that arrived after a pause was retried) is skipped.
``TemporarilyUnavailable`` from a platform and temporary e-mail failures propagate, so the
outbox retries the event; a ``Refused`` command is logged, audited and not retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import structlog
from sqlalchemy import String, and_, cast, literal, select

from propdesk.access.models import PolicyRule, StaffUser
from propdesk.access.policies import subject_for
from propdesk.audit.service import record
from propdesk.engine.provisioning import ACTOR, not_before, provision_account
from propdesk.engine.store import product_content
from propdesk.lifecycle.machine import ACTIVE, FUNDED, PASSED, PROVISIONING
from propdesk.lifecycle.transitions import NextPhase
from propdesk.notifications.once import mark_step, notify_once, sent_steps
from propdesk.notifications.templates import Message, risk_message, trader_message
from propdesk.outbox.service import emit
from propdesk.platforms.contract import AccountNotFound, PlatformAdapter, Refused
from propdesk.plugins.desk import desk_platform
from propdesk.plugins.markers import hookimpl

if TYPE_CHECKING:
    from propdesk.outbox.events import DomainEvent
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

PLUGIN = "propdesk.actions"
#: The staff role told about breaches, pauses and expiries.
RISK_ROLE = "risk"
#: Statuses in which an account may trade (anything else wants trading disabled).
_TRADES = frozenset({ACTIVE, FUNDED})


def step_key(step: str) -> str:
    """How a finished step is recorded among the event's deliveries."""
    return f"{PLUGIN}#{step}"


def close_positions_on_breach(product: Mapping[str, Any], phase: int) -> bool:
    """The phase's ``on_breach.close_positions`` (true unless the product says otherwise)."""
    listed = product.get("phases") or []
    if not 0 <= phase < len(listed):
        return True
    return bool((listed[phase].get("on_breach") or {}).get("close_positions", True))


class ChallengeNow(NamedTuple):
    status: str
    account: str | None
    phase: int
    attempt: int


async def _challenge_now(session: Any, challenge_id: int) -> ChallengeNow:
    """The row keeps these in step with the challenge's history, in the same transaction."""
    from propdesk.lifecycle.models import ChallengeRow

    found = (
        await session.execute(
            select(
                ChallengeRow.status, ChallengeRow.account, ChallengeRow.phase, ChallengeRow.attempt
            ).where(ChallengeRow.id == challenge_id)
        )
    ).one()
    return ChallengeNow(*found)


@dataclass
class Reaction:
    """One delivery of one event: what was done before, and doing the rest."""

    runtime: Runtime
    tenant: TenantContext
    event: DomainEvent
    done: set[str] = field(default_factory=set)
    #: The challenge as it was when this delivery began (``load``).
    now: ChallengeNow | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return self.event.payload

    @property
    def challenge_id(self) -> int:
        return int(self.payload["challenge_id"])

    @property
    def where(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant.slug,
            "event_name": self.event.name,
            "event_id": str(self.event.event_id),
            "challenge_id": self.payload.get("challenge_id"),
        }

    async def load(self) -> None:
        """What was done for this event before, and the challenge as committed now."""
        if self.event.first_delivery and "to_status" in self.payload:
            # Straight from the commit: nothing done yet, and the payload is the state now.
            payload = self.payload
            self.now = ChallengeNow(
                payload["to_status"], payload.get("account"), payload["phase"], payload["attempt"]
            )
            return
        self.done = await sent_steps(self.runtime, self.tenant, self.event, PLUGIN)
        self.now = await self.challenge_now()

    async def mark(self, session: Any, step: str) -> bool:
        """Record ``step`` in ``session``'s transaction; False if it was recorded already."""
        inserted = await mark_step(session, self.event, PLUGIN, step)
        self.done.add(step)
        return inserted

    async def challenge_now(self) -> ChallengeNow:
        """The challenge's status, account, phase and attempt as committed now."""
        async with self.runtime.db.session(self.tenant) as session:
            return await _challenge_now(session, self.challenge_id)

    # -- the platform -------------------------------------------------------------------------
    async def command(
        self,
        step: str,
        name: str,
        call: Callable[[PlatformAdapter, str], Awaitable[Any]],
        *,
        done_event: str,
        detail: Callable[[Any], dict[str, Any]] = lambda _result: {},
    ) -> None:
        """Run platform command ``name`` on the event's account once, then audit and emit it."""
        account = self.payload.get("account")
        if step in self.done:
            return
        if not account:
            log.warning("actions.no_account", step=step, **self.where)
            return
        platform, _, login = str(account).partition(":")
        adapter = desk_platform(self.runtime.host, self.tenant, platform)
        facts: dict[str, Any] = {
            "challenge_id": self.challenge_id,
            "account": account,
            "cause": self.event.name,
            "cause_event_id": str(self.event.event_id),
        }
        try:
            result = await call(adapter, login)
        except (Refused, AccountNotFound) as exc:
            # Permanent: repeating gives the same answer. Say so, loudly, once.
            log.error("actions.command_refused", command=name, error=str(exc), **self.where)
            facts |= {"command": name, "error": str(exc), "platform_code": exc.vendor_code}
            name_of_event, action = "account.action_refused", f"account.{name}_refused"
        else:
            facts |= detail(result)
            name_of_event, action = done_event, done_event
        async with self.runtime.db.unit_of_work(self.tenant) as session:
            if not await self.mark(session, step):
                return  # a concurrent delivery did it
            await record(
                session,
                chain="tenant",
                actor=ACTOR,
                action=action,
                target=f"account:{account}",
                after=facts,
            )
            emit(session, self.runtime.queue, name_of_event, facts)

    async def disable_trading(self) -> None:
        async def call(adapter: PlatformAdapter, login: str) -> None:
            await adapter.disable_trading(login)

        await self.command(
            "disable_trading", "disable_trading", call, done_event="account.trading_disabled"
        )

    async def enable_trading(self) -> None:
        async def call(adapter: PlatformAdapter, login: str) -> None:
            await adapter.enable_trading(login)

        await self.command(
            "enable_trading", "enable_trading", call, done_event="account.trading_enabled"
        )

    async def close_positions(self) -> None:
        async def call(adapter: PlatformAdapter, login: str) -> tuple[str, ...]:
            return await adapter.close_all_positions(login)

        await self.command(
            "close_positions",
            "close_all_positions",
            call,
            done_event="account.positions_closed",
            detail=lambda closed: {"positions": list(closed)},
        )

    # -- provisioning -------------------------------------------------------------------------
    async def provision(self) -> None:
        step = "provision"
        if step in self.done:
            return
        try:
            await provision_account(self.runtime, self.tenant, self.challenge_id)
        except Refused as exc:
            log.error("actions.provisioning_refused", error=str(exc), **self.where)
            facts = {
                "challenge_id": self.challenge_id,
                "command": "create_account",
                "error": str(exc),
                "platform_code": exc.vendor_code,
                "cause": self.event.name,
                "cause_event_id": str(self.event.event_id),
            }
            async with self.runtime.db.unit_of_work(self.tenant) as session:
                if await self.mark(session, step):
                    await record(
                        session,
                        chain="tenant",
                        actor=ACTOR,
                        action="account.create_account_refused",
                        target=f"challenge:{self.challenge_id}",
                        after=facts,
                    )
                    emit(session, self.runtime.queue, "account.action_refused", facts)

    async def next_phase(self) -> None:
        """Move a challenge that is still ``passed`` (at the passed phase) to its next phase."""
        from propdesk.lifecycle.service import apply_transition, load_challenge

        async with self.runtime.db.unit_of_work(self.tenant) as session:
            _row, challenge = await load_challenge(session, self.challenge_id, lock=True)
            if challenge.status != PASSED or challenge.phase != self.payload.get("phase"):
                return  # moved on already (a repeat, or an operator)
            at = not_before(challenge)
            await apply_transition(
                session, self.runtime.queue, self.challenge_id, NextPhase(at=at), actor=ACTOR
            )

    # -- notifications ------------------------------------------------------------------------
    async def notify(self, recipients: list[str], message: Message | None, kind: str) -> None:
        """Send ``message`` to each recipient on its own, once per event and recipient."""
        await notify_once(
            self.runtime,
            self.tenant,
            self.event,
            plugin=PLUGIN,
            recipients=recipients,
            message=message,
            done=self.done,
        )

    async def notify_trader(self) -> None:
        desk = self.tenant.display_name or self.tenant.slug
        message = trader_message(self.event.name.removeprefix("challenge."), self.payload, desk)
        await self.notify([self.payload.get("trader_email") or ""], message, "trader")

    async def notify_risk(self) -> None:
        desk = self.tenant.display_name or self.tenant.slug
        message = risk_message(self.event.name.removeprefix("challenge."), self.payload, desk)
        if message is None:
            return
        await self.notify(await risk_staff(self.runtime, self.tenant), message, "risk")


async def risk_staff(runtime: Runtime, tenant: TenantContext) -> list[str]:
    """E-mail addresses of the desk's active staff holding the risk role there."""
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(StaffUser.email)
            .join(
                PolicyRule,
                and_(
                    PolicyRule.ptype == "g",
                    PolicyRule.v1 == RISK_ROLE,
                    PolicyRule.v2 == tenant.slug,
                ),
            )
            .where(
                StaffUser.is_active.is_(True),
                PolicyRule.v0 == _subject_column(),
            )
            .order_by(StaffUser.email)
        )
        return list(dict.fromkeys(rows))


def _subject_column() -> Any:
    # casbin names a user "user:<uuid>" (``subject_for``): match it against the id column.
    prefix = subject_for("")
    return literal(prefix) + cast(StaffUser.id, String)


# -- the reactions ------------------------------------------------------------------------------
async def _stopped(reaction: Reaction) -> None:
    """Breached, paused, expired, refunded: trading stops (unless it trades again already)."""
    status, account, _phase, _attempt = reaction.now or await reaction.challenge_now()
    still = not (status in _TRADES and account == reaction.payload.get("account"))
    if still:
        await reaction.disable_trading()
        if reaction.event.name == "challenge.breached" and await _closes_on_breach(reaction):
            await reaction.close_positions()
    else:
        log.info("actions.superseded", status=status, **reaction.where)
    await reaction.notify_trader()
    await reaction.notify_risk()


async def _closes_on_breach(reaction: Reaction) -> bool:
    version = reaction.payload.get("version_hash")
    if not version:
        return True
    async with reaction.runtime.db.session(reaction.tenant) as session:
        product = await product_content(session, reaction.tenant.schema, version)
    return close_positions_on_breach(product, int(reaction.payload.get("phase") or 0))


async def _trades_again(reaction: Reaction) -> None:
    """Resumed, reinstated: trading is enabled again on the challenge's account."""
    status, account, _phase, _attempt = reaction.now or await reaction.challenge_now()
    if status in _TRADES and account == reaction.payload.get("account"):
        await reaction.enable_trading()
    else:
        log.info("actions.superseded", status=status, **reaction.where)
    await reaction.notify_trader()


async def _passed(reaction: Reaction) -> None:
    """The phase is passed: its account stops, the next phase gets an account of its own."""
    await reaction.disable_trading()
    await reaction.notify_trader()
    await reaction.next_phase()
    await _provision(reaction)


async def _provision(reaction: Reaction) -> None:
    status, _account, _phase, _attempt = await reaction.challenge_now()
    if status == PROVISIONING:
        await reaction.provision()


REACTIONS: dict[str, Callable[[Reaction], Awaitable[None]]] = {
    "challenge.breached": _stopped,
    "challenge.paused": _stopped,
    "challenge.expired": _stopped,
    "challenge.refunded": _stopped,
    "challenge.resumed": _trades_again,
    "challenge.reinstate": _trades_again,
    "challenge.passed": _passed,
    "challenge.paid": _provision,
    "challenge.next_phase": _provision,
    "challenge.reset": _provision,
    "challenge.scaled": _provision,
}


async def react(runtime: Runtime, tenant: TenantContext, event: DomainEvent) -> bool:
    """Do what ``event`` calls for (the steps not done yet); False if it calls for nothing."""
    handler = REACTIONS.get(event.name)
    if handler is None:
        return False
    reaction = Reaction(runtime, tenant, event)
    await reaction.load()
    await handler(reaction)
    return True


async def release_held(runtime: Runtime, tenant: TenantContext, email: str) -> list[int]:
    """Provision the trader's challenges that waited for their identity check (funded phases
    held at the KYC gate); the ids provisioned."""
    from sqlalchemy import func, select

    from propdesk.lifecycle.models import ChallengeRow

    async with runtime.db.session(tenant) as session:
        waiting = await session.scalars(
            select(ChallengeRow.id).where(
                func.lower(ChallengeRow.trader_email) == email.lower(),
                ChallengeRow.status == PROVISIONING,
            )
        )
        ids = list(waiting)
    done = []
    for challenge_id in ids:
        if await provision_account(runtime, tenant, challenge_id) is not None:
            done.append(challenge_id)
    return done


@hookimpl
async def propdesk_on_event(tenant: TenantContext, event: DomainEvent, runtime: Runtime) -> None:
    """React to the challenge's lifecycle events (see the module's table), and release the
    accounts a trader's approved identity check was holding."""
    if event.name == "trader.kyc_approved":
        await release_held(runtime, tenant, str(event.payload["email"]))
        return
    await react(runtime, tenant, event)
