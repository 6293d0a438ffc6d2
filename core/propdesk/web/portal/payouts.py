"""The trader's payouts: for each funded challenge the quote now with every reason it refuses
(the same call as ``GET /api/traders/me/challenges/{id}/payout-quote``), the request form, and
the payouts so far with their timelines and statements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.errors import PropdeskError
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.lifecycle import machine
from propdesk.lifecycle.models import ChallengeRow
from propdesk.lifecycle.service import trader_challenge, trader_challenges
from propdesk.payouts import service, workflow
from propdesk.payouts.case import NotPayable
from propdesk.payouts.plugin import offered_rails
from propdesk.payouts.trader import (
    QuoteNow,
    destination_schema,
    quote_now,
    request_now,
    trader_payouts,
)
from propdesk.plugins.desk import desk_payout_rail
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.traders.models import Trader
from propdesk.web.pages import form_of, render, see_other
from propdesk.web.portal.forms import NOT_REFUSED, Refused, attempt, form_key, once
from propdesk.web.portal.trader import OPEN, sign_in_first, signed_in, trader_of

#: Destination fields are named ``destination.<property>``.
DESTINATION = "destination."
REQUESTED = "Payout+requested:+finance+reviews+it+next."
#: Challenges that may be on a funded account now.
TRADING = (machine.ACTIVE, machine.FUNDED)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    required: bool
    hint: str


@dataclass(frozen=True, slots=True)
class Rail:
    code: str
    name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Funded:
    """A funded challenge and its quote now (or why there is none)."""

    challenge: ChallengeRow
    quote: QuoteNow | None
    unavailable: str


def fields_of(schema: Mapping[str, Any]) -> tuple[Field, ...]:
    """The form fields of a rail's destination schema (its properties, required ones first)."""
    required = set(schema.get("required") or ())
    props: Mapping[str, Mapping[str, Any]] = schema.get("properties") or {}
    return tuple(
        Field(
            name=name,
            label=str(spec.get("title") or name.replace("_", " ").capitalize()),
            required=name in required,
            hint=str(spec.get("description") or ""),
        )
        for name, spec in sorted(props.items(), key=lambda item: item[0] not in required)
    )


async def _page(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    trader: Trader,
    *,
    chosen: dict[str, str] | None = None,
    refused: Refused = NOT_REFUSED,
) -> Template:
    funded = []
    for row in await trader_challenges(session, trader.email):
        if row.status not in TRADING:
            continue
        try:
            funded.append(Funded(row, await quote_now(runtime, tenant, session, row.id), ""))
        except NotPayable:
            continue  # evaluating: no payouts from it (the payouts domain decides which)
        except PropdeskError as exc:  # the platform could not be read just now
            funded.append(Funded(row, None, exc.detail))
    rails = [
        Rail(
            code,
            desk_payout_rail(runtime.host, tenant, code).display_name,
            fields_of(destination_schema(runtime, tenant, code)),
        )
        for code in offered_rails(tenant)
    ]
    payouts = await trader_payouts(session, trader.email)
    return await render(
        request,
        session,
        "portal/payouts.html",
        status=refused.status,
        trader=trader,
        funded=funded,
        rails=rails,
        payouts=payouts,
        # One payout at a time per challenge: while one is under way, no form for another.
        under_way={p.challenge_id: p for p in payouts if p.status in workflow.IN_FLIGHT},
        timelines={p.id: await service.timeline(session, p.id) for p in payouts},
        keys={(f.challenge.id, r.code): form_key() for f in funded for r in rails},
        chosen=chosen or {},
        refused=refused,
    )


@get("/payouts", opt=OPEN)
async def payouts_page(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Template:
    trader = await signed_in(request, session)
    return await _page(request, runtime, session, tenant, trader)


@post("/payouts/{challenge_id:int}/request", opt=OPEN, status_code=303)
async def request_payout(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    challenge_id: FromPath[int],
) -> Response[Any] | Template:
    """Request the payout the quote gives now (a double submit requests once)."""
    trader = await trader_of(request, session)
    if trader is None:
        return sign_in_first(request, "/payouts")
    await trader_challenge(session, challenge_id, trader.email)
    form = await form_of(request)
    destination = {
        k.removeprefix(DESTINATION): v.strip()
        for k, v in form.items()
        if k.startswith(DESTINATION) and v.strip()
    }

    async def ask() -> dict[str, Any]:
        payout = await request_now(
            runtime,
            tenant,
            session,
            challenge_id,
            rail=form.get("rail", ""),
            destination=destination,
            actor=f"trader:{trader.id}",
        )
        return {"payout": payout.id}

    scope = f"trader:{trader.id}"
    done, refused = await attempt(session, lambda: once(request, session, scope, form, ask))
    if done is None:
        chosen = {**form, "challenge": str(challenge_id)}
        return await _page(
            request, runtime, session, tenant, trader, chosen=chosen, refused=refused or NOT_REFUSED
        )
    return see_other(f"/payouts?done={REQUESTED}#payout-{done['payout']}", request)


ROUTES = [payouts_page, request_payout]
