"""What the engine did to a desk's accounts, for the people watching: the near-breach list, an
account's timeline and why it stands where it does, its journal, and data-quality alerts.

Nothing here writes. Every function takes a session bound to the desk (the request's unit of
work), so another desk's accounts are simply not there. Query parameters arrive as text and
are checked here, so a wrong one is a 422 naming the parameter, the same from any caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.models import TenantAuditRecord
from propdesk.catalogue.models import CatalogueVersion
from propdesk.catalogue.product import ProductError
from propdesk.engine.export import account_inputs
from propdesk.engine.models import (
    AccountDay,
    AccountState,
    AccountVerdict,
    DataQualityAlert,
    TradingAccount,
)
from propdesk.engine.replay import replay
from propdesk.errors import FieldProblem, InvalidInput, NotFound
from propdesk.lifecycle.models import ChallengeHistory
from propdesk.rules.clock import utc
from propdesk.rules.events import EventError, canonical, canonical_json
from propdesk.rules.family import RuleFamily
from propdesk.rules.money import HUNDRED, money

log = logging.getLogger("propdesk.engine.views")

Families = Mapping[str, type[RuleFamily]]

#: Accounts still trading: the only ones a floor can still be near.
TRADING = ("active", "paused")
#: Statuses the engine does not leave by itself: their last decision is the explanation.
DECIDED = ("passed", "failed", "expired")
ALERT_KINDS = ("stale", "gap", "late", "conflict", "bad_event")
DEFAULT_WITHIN = Decimal(2)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
PERCENT_PLACES = Decimal("0.01")
RATIO_PLACES = Decimal("0.000001")


# -- parameters ---------------------------------------------------------------------------------


def _invalid(name: str, message: str, given: str) -> InvalidInput:
    return InvalidInput(f"{name}={given!r}: {message}", problems=[FieldProblem(name, message)])


def parse_within(text: str | None) -> Decimal:
    """``within``: a headroom in percent of the initial balance, 0 to 100 (default 2)."""
    if text is None or text == "":
        return DEFAULT_WITHIN
    message = "must be a percentage from 0 to 100, e.g. 2 or 0.5"
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _invalid("within", message, text) from None
    if not value.is_finite() or not Decimal(0) <= value <= HUNDRED:
        raise _invalid("within", message, text)
    # Stored percentages have 6 places, so flooring to 6 changes no answer of ``<=`` and keeps
    # a bound like 1e-99999 from reaching PostgreSQL (whose NUMERIC refuses it).
    return value.quantize(RATIO_PLACES, rounding=ROUND_FLOOR)


def parse_limit(text: str | None) -> int:
    """``limit``: how many rows at most, 1 to 500 (default 100)."""
    if text is None or text == "":
        return DEFAULT_LIMIT
    message = f"must be a whole number from 1 to {MAX_LIMIT}"
    stripped = text.strip()
    # ASCII digits only ("²" is a digit to str.isdigit), and short: int() of a huge string fails.
    well_formed = stripped.isascii() and stripped.isdigit() and len(stripped) <= 6
    if not well_formed or not 1 <= int(stripped) <= MAX_LIMIT:
        raise _invalid("limit", message, text)
    return int(stripped)


def parse_open(text: str | None) -> bool | None:
    """``open``: true (open alerts only), false (closed only) or absent (both)."""
    if text is None or text == "":
        return None
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise _invalid("open", "must be true or false", text)
    return lowered == "true"


def parse_kind(text: str | None) -> str | None:
    if text is None or text == "":
        return None
    if text not in ALERT_KINDS:
        raise _invalid("kind", f"must be one of {', '.join(ALERT_KINDS)}", text)
    return text


# -- the near-breach list -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NearBreach:
    account_id: int
    platform: str
    login: str
    challenge_id: int
    phase_code: str
    status: str
    nearest_rule: str | None
    floor: Decimal | None
    equity: Decimal | None
    headroom: Decimal | None
    headroom_pct: Decimal
    stale: bool
    evaluated_until: datetime | None


async def near_breach(
    session: AsyncSession, *, within: Decimal, limit: int, rule: str | None = None
) -> list[NearBreach]:
    """Trading accounts whose headroom to their nearest floor is at most ``within`` percent of
    the initial balance, closest first (then by account id, so pages are stable)."""
    a, s = TradingAccount, AccountState
    query = (
        select(
            a.id.label("account_id"),
            a.platform,
            a.login,
            a.challenge_id,
            a.phase_code,
            s.status,
            s.nearest_rule,
            s.floor,
            s.equity,
            s.headroom,
            s.headroom_pct,
            s.stale,
            s.evaluated_until,
        )
        .join(s, s.account_id == a.id)
        # Same predicate as the partial index ix_account_state_near_breach.
        .where(s.status.in_(TRADING), s.headroom_pct.is_not(None), s.headroom_pct <= within)
        .order_by(s.headroom_pct, a.id)
        .limit(limit)
    )
    if rule is not None:
        query = query.where(s.nearest_rule == rule)
    return [NearBreach(**row._asdict()) for row in (await session.execute(query)).all()]


# -- data-quality alerts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    account_id: int
    platform: str
    login: str
    challenge_id: int
    kind: str
    opened_at: datetime
    closed_at: datetime | None
    detail: str


async def alerts(
    session: AsyncSession,
    *,
    open_: bool | None = None,
    kind: str | None = None,
    limit: int = DEFAULT_LIMIT,
    account_id: int | None = None,
) -> list[Alert]:
    """The desk's data-quality alerts, newest first."""
    a, d = TradingAccount, DataQualityAlert
    query = (
        select(
            d.id,
            d.account_id,
            a.platform,
            a.login,
            a.challenge_id,
            d.kind,
            d.opened_at,
            d.closed_at,
            d.detail,
        )
        .join(a, a.id == d.account_id)
        .order_by(d.opened_at.desc(), d.id.desc())
        .limit(limit)
    )
    if open_ is not None:
        query = query.where(d.closed_at.is_(None) if open_ else d.closed_at.is_not(None))
    if kind is not None:
        query = query.where(d.kind == kind)
    if account_id is not None:
        query = query.where(d.account_id == account_id)
    return [Alert(**row._asdict()) for row in (await session.execute(query)).all()]


# -- one account --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Nearest:
    """The floor the account is closest to, in numbers."""

    rule: str
    measure: str
    current: Decimal
    floor: Decimal
    headroom: Decimal
    headroom_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why the account stands where it does.

    ``source`` says where the answer comes from: ``decision`` (the latest verdict of a decided
    or paused account, with the objectives as they stood then), ``objectives`` (an undecided
    account replayed from its journal now), ``none`` (nothing evaluated yet) or
    ``unavailable`` (the journal could not be replayed; ``text`` says why).
    """

    source: str
    status: str | None
    rule: str | None
    text: str
    decided_at: datetime | None
    nearest: Nearest | None
    objectives: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Timeline:
    account: TradingAccount
    state: AccountState | None
    days: list[AccountDay]
    decisions: list[AccountVerdict]
    history: list[ChallengeHistory]
    alerts: list[Alert]
    explanation: Explanation


async def get_account(session: AsyncSession, account_id: int) -> TradingAccount:
    account = await session.get(TradingAccount, account_id)
    if account is None:
        raise NotFound(f"no trading account {account_id} on this desk")
    return account


async def challenge_account(session: AsyncSession, challenge_id: int) -> TradingAccount | None:
    """The account the challenge trades on now (the current phase and attempt), or None
    before one is provisioned."""
    found = await accounts_of(session, challenge_id)
    return found[0] if found else None


async def account_server(session: AsyncSession, account: TradingAccount) -> str | None:
    """The server the trader's terminal connects to, as the platform named it at provisioning
    (kept only in the audit record: the account row is the platform's, not the terminal's)."""
    after = await session.scalar(
        select(TenantAuditRecord.after)
        .where(
            TenantAuditRecord.action == "account.provisioned",
            TenantAuditRecord.target == f"account:{account.platform}:{account.login}",
        )
        .order_by(TenantAuditRecord.seq.desc())
        .limit(1)
    )
    server = (after or {}).get("server")
    return str(server) if server else None


async def timeline(session: AsyncSession, families: Families, account_id: int) -> Timeline:
    """Everything the engine knows about one account, oldest first, and why it stands there."""
    account = await get_account(session, account_id)
    state = await session.get(AccountState, account_id)
    days = list(
        await session.scalars(
            select(AccountDay).where(AccountDay.account_id == account_id).order_by(AccountDay.day)
        )
    )
    decisions = list(
        await session.scalars(
            select(AccountVerdict)
            .where(AccountVerdict.account_id == account_id)
            .order_by(AccountVerdict.decided_at, AccountVerdict.id)
        )
    )
    history = list(
        await session.scalars(
            select(ChallengeHistory)
            .where(ChallengeHistory.challenge_id == account.challenge_id)
            .order_by(ChallengeHistory.seq)
        )
    )
    found = await alerts(session, account_id=account_id, limit=MAX_LIMIT)
    explanation = await explain(session, families, account, state, decisions)
    return Timeline(account, state, days, decisions, history, found, explanation)


async def explain(
    session: AsyncSession,
    families: Families,
    account: TradingAccount,
    state: AccountState | None,
    decisions: Sequence[AccountVerdict],
) -> Explanation:
    latest = decisions[-1] if decisions else None
    status = state.status if state is not None else None
    held = status in DECIDED or (status == "paused" and latest is not None)
    if latest is not None and held and latest.event != "resumed":
        return Explanation(
            source="decision",
            status=status,
            rule=latest.rule,
            text=latest.explanation,
            decided_at=latest.decided_at,
            nearest=None,
            objectives=list(latest.verdict.get("objectives") or []),
        )
    if state is None or state.evaluated_seq == 0 or status == "not_opened":
        return Explanation(
            "none", status, None, "the engine has not evaluated this account yet", None, None, []
        )
    try:
        inputs = await account_inputs(session, account.id)
        # Replaying a long journal is CPU work: keep it off the event loop.
        verdict = await asyncio.to_thread(
            replay,
            inputs.product,
            inputs.phase,
            inputs.events,
            families,
            size=inputs.size,
            addons=inputs.addons,
            until=inputs.until,
        )
    except (EventError, ProductError, LookupError) as exc:
        log.warning("account %s could not be replayed: %s", account.id, exc)
        return Explanation(
            "unavailable",
            status,
            None,
            f"the account's journal could not be replayed: {exc}",
            None,
            None,
            [],
        )
    objectives = list(verdict["objectives"])
    if verdict["status"] in DECIDED:
        # Decided on replay but no verdict committed yet (the engine's batch is in flight).
        return Explanation(
            source="objectives",
            status=verdict["status"],
            rule=verdict["rule"],
            text=verdict["explanation"] or "",
            decided_at=None,
            nearest=None,
            objectives=objectives,
        )
    nearest = nearest_floor(objectives, Decimal(verdict["account"]["initial_balance"]))
    return Explanation(
        source="objectives",
        status=verdict["status"],
        rule=nearest.rule if nearest else None,
        text=objectives_text(nearest, objectives),
        decided_at=None,
        nearest=nearest,
        objectives=objectives,
    )


def nearest_floor(objectives: Sequence[Mapping[str, Any]], initial: Decimal) -> Nearest | None:
    """The floor with the least headroom among the limit rules (pure): the engine's choice
    for ``account_state.nearest_rule``, so the two agree."""
    best: Nearest | None = None
    for objective in objectives:
        if objective.get("role") != "limit" or objective.get("headroom") is None:
            continue
        if objective.get("floor") is None or objective.get("current") is None:
            continue
        headroom = Decimal(objective["headroom"])
        if best is not None and headroom >= best.headroom:
            continue
        share = (headroom * HUNDRED / initial).quantize(PERCENT_PLACES) if initial > 0 else None
        best = Nearest(
            rule=str(objective["rule"]),
            measure=str(objective.get("measure") or "equity"),
            current=Decimal(objective["current"]),
            floor=Decimal(objective["floor"]),
            headroom=headroom,
            headroom_pct=share,
        )
    return best


def objectives_text(nearest: Nearest | None, objectives: Sequence[Mapping[str, Any]]) -> str:
    """How far the nearest floor is, then every target still to meet, in numbers (pure)."""
    if nearest is not None:
        share = f" ({nearest.headroom_pct}% of the initial balance)" if nearest.headroom_pct else ""
        text = (
            f"Nearest to deciding: {nearest.rule}, {nearest.measure} {money(nearest.current)} "
            f"is {money(nearest.headroom)} above its floor {money(nearest.floor)}{share}."
        )
    else:
        text = "No loss floor applies to this account."
    pending = [
        f"{o['rule']} ({o['text']})"
        for o in objectives
        if o.get("role") == "target" and o.get("status") != "met" and o.get("text")
    ]
    if pending:
        text += " Still to meet: " + "; ".join(pending) + "."
    return text


# -- the journal --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Journal:
    """An account's inputs as ``propdesk replay`` reads them."""

    account_id: int
    product_code: str | None
    version_hash: str
    #: The catalogue version number with that hash (``None`` if it is not in the catalogue).
    product_version: int | None
    phase: str
    size: str | None
    addons: tuple[str, ...]
    until: datetime | None
    lines: list[str]

    def text(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)

    @property
    def until_text(self) -> str | None:
        return utc(self.until) if self.until is not None else None


async def journal(session: AsyncSession, account_id: int) -> Journal:
    """The account's events as evaluated, one canonical JSON line each, and what to replay
    them with (product version, phase, size, add-ons, time evaluated to)."""
    account = await get_account(session, account_id)
    try:
        inputs = await account_inputs(session, account_id)
    except LookupError as exc:
        raise NotFound(f"trading account {account_id}: {exc}") from None
    version_hash = await session.scalar(
        select(AccountState.version_hash).where(AccountState.account_id == account_id)
    )
    version_hash = version_hash or account.version_hash
    number = await session.scalar(
        select(CatalogueVersion.version)
        .where(CatalogueVersion.content_hash == version_hash, CatalogueVersion.version.is_not(None))
        .order_by(CatalogueVersion.version)
        .limit(1)
    )
    code = inputs.product.get("code")
    return Journal(
        account_id=account_id,
        product_code=str(code) if code is not None else None,
        version_hash=version_hash,
        product_version=number,
        phase=inputs.phase,
        size=inputs.size,
        addons=tuple(inputs.addons),
        until=inputs.until,
        lines=[canonical_json(canonical(event)) for event in inputs.events],
    )


async def accounts_of(session: AsyncSession, challenge_id: int) -> list[TradingAccount]:
    """Every trading account a challenge has had, newest first (phase, then attempt)."""
    rows = await session.scalars(
        select(TradingAccount)
        .where(TradingAccount.challenge_id == challenge_id)
        .order_by(
            TradingAccount.phase.desc(), TradingAccount.attempt.desc(), TradingAccount.id.desc()
        )
    )
    return list(rows)
