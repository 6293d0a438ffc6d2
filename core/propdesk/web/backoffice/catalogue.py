"""The desk's challenge catalogue: its products and their versions, a new product, and
publishing a draft after reviewing what it changes (the catalogue service's own calls, so the
rules are the API's). The draft's editor is ``catalogue_editor``."""

from __future__ import annotations

import copy
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import requires
from propdesk.catalogue import service
from propdesk.catalogue.families import rule_families
from propdesk.catalogue.rulebook import rulebook_html
from propdesk.errors import FieldProblem, NotFound
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.web.backoffice.common import Refusal, actor_of, attempt, done
from propdesk.web.brand import brand_of
from propdesk.web.pages import form_of, render, see_other

READ = requires("catalogue", "read")
MANAGE = requires("catalogue", "manage")
BLANK = ""


async def _catalogue_page(
    request: Request[Any, Any, Any], session: AsyncSession, refusal: Refusal | None = None
) -> Template:
    return await render(
        request,
        session,
        "backoffice/catalogue.html",
        status=refusal.status if refusal else 200,
        products=await service.list_products(session),
        refusal=refusal,
        form=await form_of(request) if refusal else {},
    )


@get("/catalogue", opt=READ)
async def catalogue(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    """Every product: what is on sale, how many versions, whether a draft waits."""
    return await _catalogue_page(request, session)


async def _start_from(
    session: AsyncSession, tenant: TenantContext, code: str, name: str, start: str
) -> dict[str, Any]:
    """A new product's first draft: a copy of another product, or the least a product says."""
    if start == BLANK:
        brand = await brand_of(session, tenant)
        return {
            "code": code,
            "name": name,
            "currency": brand.currency,
            "trading_day": {"time": "00:00", "timezone": brand.timezone},
            "sizes": [],
            "phases": [],
            "payout": {"split_percent": "80", "cadence": "on_demand"},
        }
    source = await service.latest_published(session, start) or await service.get_draft(
        session, start
    )
    if source is None:
        raise NotFound(f"the catalogue has no product {start!r} to start from")
    return {**copy.deepcopy(source.content), "code": code, "name": name}


@post("/catalogue/new", opt=MANAGE)
async def new_product(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Response[Any] | Template:
    """A new product's first draft, then its editor."""
    form = await form_of(request)
    code, name = form.get("code", "").strip(), form.get("name", "").strip()
    taken = {p.code for p in await service.list_products(session)}
    problems = []
    if code in taken:
        problems.append(FieldProblem("/code", f"{code!r} exists already: edit it instead"))
    if not name:
        problems.append(FieldProblem("/name", "required: the name traders see"))
    if problems:
        return await _catalogue_page(request, session, Refusal("check the new product", problems))
    content = await _start_from(session, tenant, code, name, form.get("start", BLANK))
    families = rule_families(runtime.host, tenant)
    outcome = await attempt(
        session, service.save_draft(session, families, code, content, actor_of(request))
    )
    if isinstance(outcome, Refusal):
        return await _catalogue_page(request, session, outcome)
    url = done(f"/backoffice/catalogue/{code}/draft", f"Draft of {code} created.")
    return see_other(url, request)


@get("/catalogue/{code:str}", opt=READ)
async def product(
    request: Request[Any, Any, Any], session: SessionDep, code: FromPath[str]
) -> Template:
    """A product's versions, oldest first, then its draft."""
    versions = await service.list_versions(session, code)
    return await render(request, session, "backoffice/product.html", code=code, versions=versions)


@get("/catalogue/{code:str}/versions/{version:int}", opt=READ)
async def version_page(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
    version: FromPath[int],
) -> Template:
    """One version: the trader's rulebook generated from it, and its JSON."""
    row = await service.get_version(session, code, version)
    rulebook = rulebook_html(row.content, rule_families(runtime.host, tenant))
    return await render(request, session, "backoffice/version.html", row=row, rulebook=rulebook)


async def _review_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    runtime: Runtime,
    tenant: TenantContext,
    code: str,
    refusal: Refusal | None = None,
) -> Template:
    review = await service.review_draft(session, rule_families(runtime.host, tenant), code)
    return await render(
        request,
        session,
        "backoffice/publish.html",
        status=refusal.status if refusal else 200,
        code=code,
        review=review,
        problems=service.field_problems(review.problems),
        refusal=refusal,
    )


@get("/catalogue/{code:str}/publish", opt=MANAGE)
async def review(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Template:
    """What publishing the draft changes, against the version on sale now."""
    return await _review_page(request, session, runtime, tenant, code)


@post("/catalogue/{code:str}/publish", opt=MANAGE)
async def publish(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    code: FromPath[str],
) -> Response[Any] | Template:
    """Publish the draft as the next version (refused with every problem if it has any)."""
    families = rule_families(runtime.host, tenant)
    outcome = await attempt(
        session, service.publish(session, runtime.queue, families, code, actor_of(request))
    )
    if isinstance(outcome, Refusal):
        return await _review_page(request, session, runtime, tenant, code, outcome)
    version = outcome.version.version
    message = f"Published v{version}." if outcome.changed else f"Unchanged: v{version} is on sale."
    return see_other(done(f"/backoffice/catalogue/{code}", message), request)


@post("/catalogue/{code:str}/versions/{version:int}/retire", opt=MANAGE)
async def retire(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    code: FromPath[str],
    version: FromPath[int],
) -> Response[Any]:
    """Take a version off sale; accounts bought under it keep their rules."""
    await service.retire(session, runtime.queue, code, version, actor_of(request))
    return see_other(done(f"/backoffice/catalogue/{code}", f"v{version} retired."), request)


@post("/catalogue/{code:str}/draft/discard", opt=MANAGE)
async def discard(
    request: Request[Any, Any, Any], session: SessionDep, code: FromPath[str]
) -> Response[Any]:
    """Throw the draft away (published versions stay)."""
    if not await service.discard_draft(session, code, actor_of(request)):
        raise NotFound(f"product {code!r} has no draft")
    return see_other(done("/backoffice/catalogue", f"Draft of {code} discarded."), request)


HANDLERS = [catalogue, new_product, product, version_page, review, publish, retire, discard]
