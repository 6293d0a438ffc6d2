"""Provisioning: the platform account a challenge's current phase and attempt trade on.

A challenge in ``provisioning`` (paid, passed to its next phase, or reset) needs an account on
the phase's platform, in the phase's group, funded with the size's balance. ``provision_account``
creates it under a reference made of the challenge, phase and attempt, so that a retry (the
outbox delivers at least once) finds the same account rather than making a second one; then,
in one unit of work, it records the trading account, its engine state and polling cursor, and
moves the challenge on with ``Provisioned``.

The password exists once, in the platform's answer: it goes to the trader by e-mail *before*
the commit. Sent after it, a failed send would lose the password for good; sent before, a
failed send or commit is retried from the start and the platform hands out a fresh password
for the same account (the contract's promise for a repeated reference), which is sent again.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from propdesk.audit.service import record
from propdesk.catalogue.product import effective_phase, phases, size
from propdesk.db.locks import exclusive
from propdesk.engine.models import AccountState, PlatformCursor, TradingAccount
from propdesk.engine.store import product_content
from propdesk.lifecycle.machine import FUNDED, PROVISIONING, Challenge
from propdesk.lifecycle.transitions import Provisioned, Scaled
from propdesk.notifications import (
    Notification,
    PermanentDeliveryError,
    desk_channels,
    idempotency_key,
)
from propdesk.notifications.templates import credentials_message
from propdesk.platforms.contract import AccountSpec, OpenedAccount
from propdesk.plugins.desk import desk_platform

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

log = structlog.get_logger(__name__)

#: Who the audit trail and the lifecycle history name for what the actions do.
ACTOR = "system:actions"


def account_reference(challenge_id: int, phase: int, attempt: int) -> str:
    """The platform reference of one phase attempt: one reference, one account."""
    return f"c{challenge_id}p{phase}a{attempt}"


@dataclass(frozen=True, slots=True)
class PhaseAccount:
    """What the pinned product says the phase attempt's account is."""

    phase_code: str
    platform: str
    spec: AccountSpec


def phase_account(
    product: Mapping[str, Any],
    *,
    challenge_id: int,
    phase: int,
    attempt: int,
    size_code: str | None,
    addons: tuple[str, ...],
    trader_name: str,
    trader_email: str,
    balance: Decimal | None = None,
) -> PhaseAccount:
    """The account spec of phase ``phase`` (its index) of ``product`` for a size (or for
    ``balance``, when a scaling plan grew the account): pure."""
    listed = phases(product)
    if not 0 <= phase < len(listed):
        raise LookupError(
            f"challenge {challenge_id}: product {product.get('code')!r} has no phase {phase + 1} "
            f"(it has {len(listed)})"
        )
    if size_code is None:
        raise LookupError(f"challenge {challenge_id} has no size: its balance is unknown")
    spec = effective_phase(product, listed[phase].code, size_code, addons)
    return PhaseAccount(
        spec.code,
        spec.platform,
        AccountSpec(
            reference=account_reference(challenge_id, phase, attempt),
            group=spec.group,
            leverage=spec.leverage,
            initial_balance=balance or Decimal(size(product, size_code)["balance"]),
            currency=str(product["currency"]),
            trader_name=trader_name,
            trader_email=trader_email,
        ),
    )


def scaled_balance(challenge: Challenge) -> Decimal | None:
    """The balance the scaling plan gave the current phase, if it scaled."""
    for entry in reversed(challenge.history):
        if isinstance(entry.transition, Scaled):
            return Decimal(entry.transition.balance)
        if entry.event == "next_phase":
            return None
    return None


def not_before(challenge: Challenge) -> datetime:
    """Now, or the challenge's last event if a platform clock put that ahead of ours: the
    lifecycle's time never goes back."""
    now = datetime.now(UTC)
    if challenge.history and challenge.history[-1].at > now:
        return challenge.history[-1].at
    return now


@dataclass(frozen=True, slots=True)
class ProvisionedAccount:
    account_id: int
    account: str  # "<platform>:<login>"
    phase: int
    attempt: int


def _exclusive(runtime: Runtime, tenant: TenantContext, challenge_id: int) -> Any:
    """One provisioning of a challenge at a time in the whole deployment.

    The pass reaction and the ``next_phase`` event may both ask at once; two concurrent
    ``create_account`` calls with one reference would yield one account but two passwords, of
    which only the last works.
    """
    return exclusive(runtime, f"propdesk.provisioning:{tenant.schema}:{challenge_id}")


async def _held_at_kyc(
    session: AsyncSession,
    product: Mapping[str, Any],
    challenge_id: int,
    challenge: Challenge,
    email: str | None,
) -> bool:
    """Whether the phase to provision is funded and its trader not yet verified (the product's
    KYC gate): it waits, and the trader's approval releases it (``trader.kyc_approved``).
    Challenges opened without a registered trader (by staff, by a bridge) pass."""
    from propdesk.kyc.gates import held
    from propdesk.traders.service import find

    listed = phases(product)
    if (
        not email
        or not 0 <= challenge.phase < len(listed)
        or listed[challenge.phase].kind != FUNDED
    ):
        return False
    trader = await find(session, email)
    if trader is None:
        return False
    why = held(product, "funded", trader.kyc_status, trader.kyc_reason)
    if why is not None:
        log.info("actions.held_at_kyc", challenge_id=challenge_id, reason=why)
    return why is not None


async def provision_account(
    runtime: Runtime, tenant: TenantContext, challenge_id: int
) -> ProvisionedAccount | None:
    """Create and record the account of the challenge's current phase attempt.

    Does nothing (returns ``None``) unless the challenge is in ``provisioning`` with no account
    recorded for its phase and attempt. Platform errors propagate: ``TemporarilyUnavailable``
    to be retried, ``Refused`` for the caller to report (retrying cannot help).
    """
    from propdesk.lifecycle.service import apply_transition, load_challenge

    async with _exclusive(runtime, tenant, challenge_id):
        async with runtime.db.session(tenant) as session:
            row, challenge = await load_challenge(session, challenge_id)
            if challenge.status != PROVISIONING:
                return None
            if await _recorded(session, challenge_id, challenge.phase, challenge.attempt):
                return None
            product = await product_content(session, tenant.schema, challenge.version_hash)
            if await _held_at_kyc(session, product, challenge_id, challenge, row.trader_email):
                return None
        wanted = phase_account(
            product,
            challenge_id=challenge_id,
            phase=challenge.phase,
            attempt=challenge.attempt,
            size_code=row.size,
            addons=tuple(row.addons or ()),
            trader_name=row.trader_name or "",
            trader_email=row.trader_email or "",
            balance=scaled_balance(challenge),
        )
        adapter = desk_platform(runtime.host, tenant, wanted.platform)
        opened = await adapter.create_account(wanted.spec)
        account = f"{wanted.platform}:{opened.login}"
        await _send_credentials(runtime, tenant, challenge_id, wanted, opened)
        now = not_before(challenge)
        async with runtime.db.unit_of_work(tenant) as session:
            trading = TradingAccount(
                challenge_id=challenge_id,
                phase=challenge.phase,
                attempt=challenge.attempt,
                phase_code=wanted.phase_code,
                platform=wanted.platform,
                login=opened.login,
                product_code=row.product_code,
                version_hash=challenge.version_hash,
                size=row.size,
                addons=list(row.addons or ()),
                currency=wanted.spec.currency,
                initial_balance=wanted.spec.initial_balance,
                opened_at=now,
            )
            session.add(trading)
            await session.flush()
            session.add(
                AccountState(
                    account_id=trading.id,
                    status="not_opened",
                    version_hash=challenge.version_hash,
                )
            )
            session.add(PlatformCursor(account_id=trading.id, cursor=None, next_seq=1))
            await record(
                session,
                chain="tenant",
                actor=ACTOR,
                action="account.provisioned",
                target=f"account:{account}",
                after={
                    "challenge_id": challenge_id,
                    "phase": challenge.phase,
                    "phase_code": wanted.phase_code,
                    "attempt": challenge.attempt,
                    "reference": wanted.spec.reference,
                    "group": wanted.spec.group,
                    "leverage": wanted.spec.leverage,
                    "initial_balance": wanted.spec.initial_balance,
                    "currency": wanted.spec.currency,
                    "server": opened.server,
                },
            )
            await apply_transition(
                session,
                runtime.queue,
                challenge_id,
                Provisioned(at=now, account=account),
                actor=ACTOR,
            )
        log.info(
            "actions.provisioned",
            tenant=tenant.slug,
            challenge_id=challenge_id,
            account=account,
            phase=challenge.phase,
            attempt=challenge.attempt,
        )
        return ProvisionedAccount(trading.id, account, challenge.phase, challenge.attempt)


async def _recorded(session: Any, challenge_id: int, phase: int, attempt: int) -> bool:
    found = await session.scalar(
        select(TradingAccount.id).where(
            TradingAccount.challenge_id == challenge_id,
            TradingAccount.phase == phase,
            TradingAccount.attempt == attempt,
        )
    )
    return found is not None


async def _send_credentials(
    runtime: Runtime,
    tenant: TenantContext,
    challenge_id: int,
    wanted: PhaseAccount,
    opened: OpenedAccount,
) -> None:
    """E-mail the trader the login, server and password; the password goes nowhere else."""
    spec = wanted.spec
    where = {"tenant": tenant.slug, "challenge_id": challenge_id, "login": opened.login}
    channel = desk_channels(runtime.host, tenant).get("email")
    if channel is None:
        log.warning(
            "actions.credentials_not_sent", reason="the desk has no e-mail channel", **where
        )
        return
    if not spec.trader_email:
        log.warning("actions.credentials_not_sent", reason="the challenge has no e-mail", **where)
        return
    message = credentials_message(
        desk=tenant.display_name or tenant.slug,
        trader_name=spec.trader_name,
        challenge_id=challenge_id,
        phase=wanted.phase_code,
        platform=wanted.platform,
        login=opened.login,
        server=opened.server,
        password=opened.password,
        balance=spec.initial_balance,
        currency=spec.currency,
    )
    # Each password handed out is its own message (a retry sets and sends a new one): the key
    # names the account and this issue of its password, never the password itself.
    issue = secrets.token_hex(4)
    notification = Notification(
        tenant=tenant.slug,
        kind="account.credentials",
        recipients=(spec.trader_email,),
        subject=message.subject,
        text=message.text,
        idempotency_key=idempotency_key(
            f"{spec.reference}:{opened.login}:{issue}", spec.trader_email
        ),
    )
    try:
        await channel.send(notification)
    except PermanentDeliveryError as exc:
        # Retrying cannot reach this address; the account is still provisioned.
        log.error("actions.credentials_refused", error=str(exc), **where)
