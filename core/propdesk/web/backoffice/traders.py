"""Traders: the search with its filters, and one trader's whole story on one page (profile,
identity check, orders, every challenge with its lifecycle and why it stands where it does,
payouts, and the audit trail about them); operators act on a challenge from there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import requires
from propdesk.access.service import names_of
from propdesk.audit import service as audit
from propdesk.catalogue.families import rule_families
from propdesk.engine import views
from propdesk.errors import InvalidInput, NotFound
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.lifecycle import machine
from propdesk.lifecycle import service as challenges
from propdesk.lifecycle.models import ChallengeRow
from propdesk.lifecycle.transitions import OPERATOR_ACTIONS
from propdesk.orders import service as orders
from propdesk.payouts import trader as payouts
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.traders import service as traders
from propdesk.traders.models import Trader
from propdesk.web.backoffice.common import (
    PAGE_SIZE,
    Refusal,
    actor_of,
    attempt,
    done,
    page_number,
    query_string,
)
from propdesk.web.pages import can, form_of, render, see_other

READ = requires("traders", "read")
OPERATE = requires("challenges", "operate")
#: Audit records the trader page shows, newest first.
AUDIT_LIMIT = 200


def _filter(request: Request[Any, Any, Any]) -> traders.TraderFilter:
    query = request.query_params
    return traders.TraderFilter(
        text=query.get("q", "").strip(),
        status=query.get("status", ""),
        phase=query.get("phase", ""),
        kyc=query.get("kyc", ""),
        country=query.get("country", "").strip().upper(),
    )


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ")) for value in values]


@get("/traders", opt=READ)
async def trader_search(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    """Find traders by name or e-mail; filter by a challenge's status or phase, by identity
    check and by country."""
    wanted = _filter(request)
    page = page_number(request.query_params.get("page"))
    refusal: Refusal | None = None
    try:
        found = await traders.search(
            session, wanted, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    except InvalidInput as exc:
        refusal = Refusal(exc.detail, list(exc.problems))
        found = traders.TraderPage([], 0)
    listed = await challenges.challenges_of_traders(session, [t.email for t in found.traders])
    return await render(
        request,
        session,
        "backoffice/traders.html",
        status=refusal.status if refusal else 200,
        wanted=wanted,
        found=found,
        listed=listed,
        page=page,
        pages=max(1, -(-found.total // PAGE_SIZE)),
        base="/backoffice/traders"
        + query_string(
            q=wanted.text,
            status=wanted.status,
            phase=wanted.phase,
            kyc=wanted.kyc,
            country=wanted.country,
        ),
        statuses=_choices(machine.STATUSES),
        phases=_choices(machine.PHASE_KINDS),
        kyc_statuses=_choices(traders.KYC_STATUSES),
        countries=await traders.countries(session),
        refusal=refusal,
    )


@dataclass
class ChallengeStory:
    """One challenge as the trader page shows it."""

    row: ChallengeRow
    state: machine.Challenge
    #: Every account it traded on, as the audit trail names them (``mt5:1001``).
    accounts: list[str]
    #: The engine's view of its current account (None before one is opened).
    timeline: views.Timeline | None
    #: Operator actions the challenge takes now.
    actions: list[str] = field(default_factory=list)


async def _story(
    session: AsyncSession, runtime: Runtime, tenant: TenantContext, row: ChallengeRow, engine: bool
) -> ChallengeStory:
    _, state = await challenges.load_challenge(session, row.id)
    accounts = await views.accounts_of(session, row.id)
    current = [a for a in accounts if (a.phase, a.attempt) == (state.phase, state.attempt)]
    found = None
    if engine and current:
        found = await views.timeline(session, rule_families(runtime.host, tenant), current[0].id)
    allowed = sorted(a for a in machine.allowed(state) if a in OPERATOR_ACTIONS)
    names = [f"{a.platform}:{a.login}" for a in accounts]
    return ChallengeStory(row, state, names, found, allowed)


async def story_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    trader: Trader,
    refusal: Refusal | None = None,
    refused: str = "",
) -> Template:
    """The trader's page; ``refusal`` is shown at the form of ``refused`` (``challenge-7``,
    ``order-3``) that was sent."""
    rows = await challenges.trader_challenges(session, trader.email)
    engine = can(request, "engine", "read")
    stories = [await _story(session, runtime, tenant, row, engine) for row in rows]
    bought = await orders.trader_orders(session, trader.id)
    paid = await payouts.trader_payouts(session, trader.email)
    trail = None
    if can(request, "audit", "read"):
        targets = [f"trader:{trader.id}", *(f"challenge:{row.id}" for row in rows)]
        targets += [f"order:{o.id}" for o in bought] + [f"payout:{p.id}" for p in paid]
        targets += [f"account:{name}" for story in stories for name in story.accounts]
        trail = await audit.list_records(
            session, "tenant", targets=targets, newest_first=True, limit=AUDIT_LIMIT
        )
    actors = [e.actor or "" for s in stories for e in s.state.history]
    actors += [r.actor for r in trail or ()]
    return await render(
        request,
        session,
        "backoffice/trader.html",
        status=refusal.status if refusal else 200,
        trader=trader,
        stories=stories,
        orders=bought if can(request, "orders", "read") else None,
        payouts=paid if can(request, "payouts", "read") else None,
        trail=trail,
        people=await names_of(session, actors),
        refusal=refusal,
        refused=refused,
        form=await form_of(request) if refusal else {},
        refund_key=uuid.uuid4().hex,
    )


@get("/traders/{trader_id:int}", opt=READ)
async def trader_page(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    trader_id: FromPath[int],
) -> Template:
    """Everything about one trader."""
    trader = await traders.get(session, trader_id)
    return await story_page(request, session, runtime, tenant, trader)


async def _owner(session: AsyncSession, challenge_id: int) -> Trader:
    row, _ = await challenges.load_challenge(session, challenge_id)
    trader = await traders.find(session, row.trader_email)
    if trader is None:
        raise NotFound(f"challenge {challenge_id} belongs to {row.trader_email}, not a trader here")
    return trader


@get("/challenges/{challenge_id:int}", opt=READ)
async def challenge_link(
    request: Request[Any, Any, Any], session: SessionDep, challenge_id: FromPath[int]
) -> Response[Any]:
    """A challenge is shown on its trader's page."""
    trader = await _owner(session, challenge_id)
    return see_other(f"/backoffice/traders/{trader.id}#challenge-{challenge_id}")


def _whole(text: str) -> Any:
    """A form's number as the service takes it (text it refuses by name, None when blank)."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text


@post("/challenges/{challenge_id:int}/actions", opt=OPERATE)
async def operate(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
) -> Response[Any] | Template:
    """Reinstate, extend, advance or re-bind a challenge, with a reason (audited)."""
    form = await form_of(request)
    action = form.get("action", "")
    outcome = await attempt(
        session,
        challenges.operate(
            session,
            runtime.queue,
            challenge_id,
            action=action,
            reason=form.get("reason", ""),
            actor=actor_of(request),
            days=_whole(form.get("days", "")),
            version=_whole(form.get("version", "")),
        ),
    )
    trader = await _owner(session, challenge_id)
    if isinstance(outcome, Refusal):
        refused = f"challenge-{challenge_id}"
        return await story_page(request, session, runtime, tenant, trader, outcome, refused)
    url = done(f"/backoffice/traders/{trader.id}", f"Challenge {challenge_id}: {action} applied.")
    return see_other(f"{url}#challenge-{challenge_id}", request)


HANDLERS = [trader_search, trader_page, challenge_link, operate]
