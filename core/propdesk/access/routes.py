"""Sign-in, the signed-in user, API tokens, and a desk's staff and roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from propdesk.access import service
from propdesk.access.auth import SESSION_COOKIE, cookie_value, session_cookie
from propdesk.access.models import ApiToken, StaffUser
from propdesk.access.permissions import public, requires, signed_in
from propdesk.access.policies import RoleGrant, grants_of
from propdesk.access.principal import Principal
from propdesk.errors import Forbidden, Unauthenticated
from propdesk.http.deps import PrincipalDep, RuntimeDep, SessionDep, TenantDep
from propdesk.http.tenant import NO_TENANT_OPT

#: Routes about the caller themselves work on any host, desk or not.
_ANY_DESK = {NO_TENANT_OPT: True}


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str


class UserView(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str


class LoginResult(msgspec.Struct):
    user: UserView


class RoleView(msgspec.Struct):
    role: str
    tenant: str | None


class MeView(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    roles: list[RoleView]


class TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    tenant: str | None = None
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=service.MAX_TOKEN_DAYS)] | None = None


class TokenCreated(msgspec.Struct):
    id: uuid.UUID
    token: str
    tenant: str | None
    expires_at: datetime | None


class TokenView(msgspec.Struct):
    id: uuid.UUID
    name: str
    tenant: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


class StaffView(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    is_active: bool
    roles: list[str]


class RoleBody(msgspec.Struct, forbid_unknown_fields=True):
    role: str


class RoleChange(msgspec.Struct):
    user_id: uuid.UUID
    role: str
    tenant: str
    changed: bool


def _caller(principal: Principal | None) -> Principal:
    if principal is None:  # the guard already refused anonymous callers
        raise Unauthenticated("sign in first")
    return principal


def _user_view(user: StaffUser) -> UserView:
    return UserView(user.id, user.email, user.display_name)


def _role_view(grant: RoleGrant) -> RoleView:
    return RoleView(grant.role, grant.tenant)


# -- signing in ------------------------------------------------------------------------------


@post(
    "/api/auth/login",
    opt={**public(), **_ANY_DESK},
    operation_id="login",
    status_code=200,
    tags=["access"],
)
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[LoginBody],
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response[LoginResult]:
    """Sign in with e-mail and password; sets the ``propdesk_session`` cookie."""
    hours = runtime.settings.session_hours
    user, secret = await service.login(
        session, email=data.email, password=data.password, session_hours=hours
    )
    cookie = session_cookie(SESSION_COOKIE, secret, hours, https=request.url.scheme == "https")
    return Response(LoginResult(_user_view(user)), cookies=[cookie])


@post(
    "/api/auth/logout",
    opt={**signed_in(), **_ANY_DESK},
    operation_id="logout",
    status_code=204,
    tags=["access"],
)
async def logout(request: Request[Any, Any, Any], session: SessionDep) -> Response[None]:
    """End the browser session of this cookie and clear the cookie."""
    secret = cookie_value(request.headers.get("cookie"))
    if secret is not None:
        await service.logout(session, secret)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/api/me", opt={**signed_in(), **_ANY_DESK}, operation_id="me", tags=["access"])
async def me(principal: PrincipalDep, session: SessionDep) -> MeView:
    """The signed-in staff user and every role they hold."""
    caller = _caller(principal)
    user = await service.get_user(session, caller.user_id)
    grants = await grants_of(session, user.id)
    return MeView(user.id, user.email, user.display_name, [_role_view(g) for g in grants])


# -- API tokens ------------------------------------------------------------------------------


@post(
    "/api/auth/tokens",
    opt={**signed_in(), **_ANY_DESK},
    operation_id="createApiToken",
    status_code=201,
    tags=["access"],
)
async def create_token(
    data: JSONBody[TokenBody], principal: PrincipalDep, session: SessionDep
) -> TokenCreated:
    """Issue an API token for yourself, for one desk (``tenant``) or group-wide.

    The token is in this response only; Propdesk keeps just its hash.
    """
    caller = _caller(principal)
    if caller.token_tenant is not None and data.tenant != caller.token_tenant:
        raise Forbidden(
            f"a token scoped to desk {caller.token_tenant!r} can only issue tokens for that desk"
        )
    user = await service.get_user(session, caller.user_id)
    token, raw = await service.create_api_token(
        session,
        user=user,
        name=data.name,
        tenant_slug=data.tenant,
        expires_in_days=data.expires_in_days,
        actor=caller.actor,
    )
    return TokenCreated(token.id, raw, token.tenant_slug, token.expires_at)


@get(
    "/api/auth/tokens",
    opt={**signed_in(), **_ANY_DESK},
    operation_id="listApiTokens",
    tags=["access"],
)
async def list_tokens(principal: PrincipalDep, session: SessionDep) -> list[TokenView]:
    """Your API tokens (never the tokens themselves)."""
    caller = _caller(principal)
    tokens = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == caller.user_id).order_by(ApiToken.created_at)
    )
    return [
        TokenView(
            t.id,
            t.name,
            t.tenant_slug,
            t.created_at,
            t.expires_at,
            t.last_used_at,
            t.revoked_at is not None,
        )
        for t in tokens
    ]


@delete(
    "/api/auth/tokens/{token_id:uuid}",
    opt={**signed_in(), **_ANY_DESK},
    operation_id="revokeApiToken",
    tags=["access"],
)
async def revoke_token(
    token_id: FromPath[uuid.UUID], principal: PrincipalDep, session: SessionDep
) -> None:
    """Revoke one of your API tokens."""
    caller = _caller(principal)
    await service.revoke_api_token(
        session, user_id=caller.user_id, token_id=token_id, actor=caller.actor
    )


# -- a desk's staff --------------------------------------------------------------------------


@get("/api/staff", opt=requires("staff", "read"), operation_id="listStaff", tags=["access"])
async def list_staff(tenant: TenantDep, session: SessionDep) -> list[StaffView]:
    """Staff users holding a role on this desk, with those roles."""
    members = await service.list_staff(session, tenant.slug)
    return [
        StaffView(
            m.user.id,
            m.user.email,
            m.user.display_name,
            m.user.is_active,
            sorted(g.role for g in m.roles),
        )
        for m in members
    ]


@post(
    "/api/staff/{user_id:uuid}/roles",
    opt=requires("staff", "manage"),
    operation_id="grantStaffRole",
    status_code=200,
    tags=["access"],
)
async def grant_staff_role(
    user_id: FromPath[uuid.UUID],
    data: JSONBody[RoleBody],
    tenant: TenantDep,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> RoleChange:
    """Give a staff user a desk role on this desk (group-wide roles are granted by the CLI)."""
    caller = _caller(principal)
    service.check_grant(data.role, tenant.slug)  # 422 naming "role" before any lookup
    user = await service.get_user(session, user_id)
    changed = await service.grant_role(
        session,
        user=user,
        role=data.role,
        tenant_slug=tenant.slug,
        actor=caller.actor,
        redis_url=runtime.redis_url,
    )
    return RoleChange(user.id, data.role, tenant.slug, changed)


@delete(
    "/api/staff/{user_id:uuid}/roles/{role:str}",
    opt=requires("staff", "manage"),
    operation_id="revokeStaffRole",
    tags=["access"],
)
async def revoke_staff_role(
    user_id: FromPath[uuid.UUID],
    role: FromPath[str],
    tenant: TenantDep,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> None:
    """Take a desk role on this desk away from a staff user (no-op when they lack it)."""
    caller = _caller(principal)
    service.check_grant(role, tenant.slug)
    user = await service.get_user(session, user_id)
    await service.revoke_role(
        session,
        user=user,
        role=role,
        tenant_slug=tenant.slug,
        actor=caller.actor,
        redis_url=runtime.redis_url,
    )


ROUTES = [
    login,
    logout,
    me,
    create_token,
    list_tokens,
    revoke_token,
    list_staff,
    grant_staff_role,
    revoke_staff_role,
]
