"""The desk's staff and their roles; granting and revoking a desk role (the access service's
calls, audited in the desk's and the shared chain like the API's)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access import service
from propdesk.access.permissions import TENANT_ROLES, requires
from propdesk.errors import FieldProblem, InvalidInput
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.web.backoffice.common import Refusal, actor_of, attempt, done
from propdesk.web.pages import form_of, render, see_other

READ = requires("staff", "read")
MANAGE = requires("staff", "manage")
#: What each desk role is for, in a sentence.
ROLES = {
    "desk_admin": "runs the desk: catalogue, staff, plugins",
    "risk": "watches breaches and acts on challenges",
    "finance": "reviews, approves and pays payouts; refunds",
    "support": "reads traders' stories",
    "partner_manager": "looks after affiliates and introducing brokers",
    "bridge": "a service feeding platform events to the engine",
}


async def _staff_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    tenant: TenantContext,
    refusal: Refusal | None = None,
) -> Template:
    return await render(
        request,
        session,
        "backoffice/staff.html",
        status=refusal.status if refusal else 200,
        members=await service.list_staff(session, tenant.slug),
        roles=[(role, f"{role.replace('_', ' ')}: {ROLES.get(role, '')}") for role in TENANT_ROLES],
        refusal=refusal,
        form=await form_of(request) if refusal else {},
    )


@get("/staff", opt=READ)
async def staff(
    request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep
) -> Template:
    """Who works on this desk, in which roles."""
    return await _staff_page(request, session, tenant)


async def _change(
    runtime: Runtime,
    session: AsyncSession,
    tenant: TenantContext,
    actor: str,
    email: str,
    role: str,
    *,
    grant: bool,
) -> bool:
    service.check_grant(role, tenant.slug)  # the role is named before anyone is looked up
    user = await service.find_user_by_email(session, email) if email else None
    if user is None:
        raise InvalidInput(
            f"no staff user has the e-mail {email!r}",
            problems=[
                FieldProblem("email", "not a staff user: create them with `propdesk users create`")
            ],
        )
    change = service.grant_role if grant else service.revoke_role
    return await change(
        session,
        user=user,
        role=role,
        tenant_slug=tenant.slug,
        actor=actor,
        redis_url=runtime.redis_url,
    )


@post("/staff/roles", opt=MANAGE)
async def grant(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Response[Any] | Template:
    """Give a staff user a role on this desk."""
    form = await form_of(request)
    email, role = form.get("email", "").strip(), form.get("role", "")
    outcome = await attempt(
        session, _change(runtime, session, tenant, actor_of(request), email, role, grant=True)
    )
    if isinstance(outcome, Refusal):
        return await _staff_page(request, session, tenant, outcome)
    said = "now holds" if outcome else "already held"
    return see_other(done("/backoffice/staff", f"{email} {said} {role}."), request)


@post("/staff/{user_id:uuid}/roles/{role:str}/revoke", opt=MANAGE)
async def revoke(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    user_id: FromPath[uuid.UUID],
    role: FromPath[str],
) -> Response[Any] | Template:
    """Take a role on this desk away from a staff user."""
    user = await service.get_user(session, user_id)
    outcome = await attempt(
        session,
        _change(runtime, session, tenant, actor_of(request), user.email, role, grant=False),
    )
    if isinstance(outcome, Refusal):
        return await _staff_page(request, session, tenant, outcome)
    return see_other(done("/backoffice/staff", f"{user.email} no longer holds {role}."), request)


HANDLERS = [staff, grant, revoke]
