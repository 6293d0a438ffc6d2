"""Staff users, their roles, browser sessions and API tokens.

Functions work inside the caller's unit of work (they never commit). Role changes and
credential changes are audited in the same transaction; role changes announce themselves
after commit so every process reloads its policy.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access import policies
from propdesk.access.models import ApiToken, StaffSession, StaffUser
from propdesk.access.passwords import (
    dummy_hash,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from propdesk.access.permissions import GROUP_ROLES, ROLES, TENANT_ROLES
from propdesk.access.policies import RoleGrant
from propdesk.access.tokens import new_api_token, new_session_secret, secret_hash
from propdesk.audit.service import record
from propdesk.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from propdesk.tenancy.models import Tenant
from propdesk.tenancy.naming import schema_for

#: One message for an unknown e-mail, a wrong password and a deactivated account.
LOGIN_FAILED = "wrong e-mail or password"
MAX_TOKEN_DAYS = 3650
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class StaffMember:
    """A staff user and the roles they hold (in the scope asked about)."""

    user: StaffUser
    roles: list[RoleGrant]


# -- users -----------------------------------------------------------------------------------


async def find_user_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    return await session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> StaffUser:
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"there is no staff user {user_id}")
    return user


def _user_view(user: StaffUser) -> dict[str, object]:
    return {"email": user.email, "display_name": user.display_name, "is_active": user.is_active}


async def create_user(
    session: AsyncSession, *, email: str, password: str, actor: str, display_name: str = ""
) -> StaffUser:
    """Create a staff user (no roles yet); audited as ``staff.created`` in the shared chain."""
    email = normalise_email(email)
    problems = []
    if not _EMAIL.fullmatch(email) or len(email) > 320:
        problems.append(FieldProblem("email", "not an e-mail address"))
    if (why := password_problem(password)) is not None:
        problems.append(FieldProblem("password", why))
    if problems:
        raise InvalidInput("cannot create this staff user", problems=problems)
    if await find_user_by_email(session, email) is not None:
        raise Conflict(f"a staff user with e-mail {email} already exists")
    user = StaffUser(
        id=uuid.uuid4(),
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        is_active=True,
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        chain="shared",
        actor=actor,
        action="staff.created",
        target=f"staff:{user.id}",
        after=_user_view(user),
    )
    return user


async def list_staff(session: AsyncSession, tenant_slug: str | None = None) -> list[StaffMember]:
    """Every staff user with all their roles, or (with ``tenant_slug``) those holding a role
    in that desk, with their roles there."""
    domain = None if tenant_slug is None else tenant_slug
    grants = await policies.grants_by_user(session, domain)
    query = select(StaffUser).order_by(StaffUser.email)
    if tenant_slug is not None:
        query = query.where(StaffUser.id.in_(list(grants)))
    users = (await session.scalars(query)).all()
    return [StaffMember(user, grants.get(user.id, [])) for user in users]


# -- roles -----------------------------------------------------------------------------------


def check_grant(role: str, tenant_slug: str | None) -> RoleGrant:
    """The grant ``role`` (in ``tenant_slug``) names, or InvalidInput saying what is wrong."""
    if role not in ROLES:
        raise InvalidInput(
            f"unknown role {role!r}",
            problems=[FieldProblem("role", f"use one of: {', '.join(ROLES)}")],
        )
    if role in GROUP_ROLES and tenant_slug is not None:
        raise InvalidInput(
            f"{role} is a group-wide role: it is held on every desk, not on one",
            problems=[FieldProblem("role", f"a desk role is one of: {', '.join(TENANT_ROLES)}")],
        )
    if role in TENANT_ROLES and tenant_slug is None:
        raise InvalidInput(
            f"{role} is a desk role: say which desk",
            problems=[FieldProblem("tenant", "required for a desk role")],
        )
    return RoleGrant(role, tenant_slug)


async def _require_tenant(session: AsyncSession, slug: str) -> None:
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is None:
        raise NotFound(f"there is no desk {slug!r}: create it with `propdesk tenants apply`")


def _require_bound_to(session: AsyncSession, slug: str) -> None:
    """The desk's audit chain must be the one written to: refuse a session of another desk."""
    options = session.sync_session.get_bind().get_execution_options()
    bound = (options.get("schema_translate_map") or {}).get(None)
    if bound != schema_for(slug):
        raise RuntimeError(f"a role change on desk {slug!r} needs a session bound to that desk")


async def _change_role(
    session: AsyncSession,
    *,
    user: StaffUser,
    grant: RoleGrant,
    granted: bool,
    actor: str,
    redis_url: str,
) -> bool:
    if grant.tenant is not None:
        _require_bound_to(session, grant.tenant)
        await _require_tenant(session, grant.tenant)
    if granted:
        changed = await policies.add_grant(session, user.id, grant)
    else:
        changed = await policies.remove_grant(session, user.id, grant)
    if not changed:
        return False
    action = "staff.role_granted" if granted else "staff.role_revoked"
    detail = {"email": user.email, "role": grant.role, "tenant": grant.tenant}
    # Tenant chain first: the audit service's lock order when both chains are written.
    if grant.tenant is not None:
        await record(
            session,
            chain="tenant",
            actor=actor,
            action=action,
            target=f"staff:{user.id}",
            after=detail,
        )
    await record(
        session, chain="shared", actor=actor, action=action, target=f"staff:{user.id}", after=detail
    )
    policies.notify_policy_changed(session, redis_url)
    return True


async def grant_role(
    session: AsyncSession,
    *,
    user: StaffUser,
    role: str,
    tenant_slug: str | None,
    actor: str,
    redis_url: str,
) -> bool:
    """Give ``user`` a role (group-wide, or in one desk); False when they already held it.

    A desk role needs ``session`` bound to that desk: the grant is audited in the desk's chain
    as well as the shared one.
    """
    grant = check_grant(role, tenant_slug)
    return await _change_role(
        session, user=user, grant=grant, granted=True, actor=actor, redis_url=redis_url
    )


async def revoke_role(
    session: AsyncSession,
    *,
    user: StaffUser,
    role: str,
    tenant_slug: str | None,
    actor: str,
    redis_url: str,
) -> bool:
    """Take a role away; False when the user did not hold it."""
    grant = check_grant(role, tenant_slug)
    return await _change_role(
        session, user=user, grant=grant, granted=False, actor=actor, redis_url=redis_url
    )


# -- browser sessions ------------------------------------------------------------------------


async def login(
    session: AsyncSession, *, email: str, password: str, session_hours: int
) -> tuple[StaffUser, str]:
    """Check the password and open a browser session; returns the user and the cookie value.

    The same ``Unauthenticated`` for an unknown e-mail, a wrong password and a deactivated
    user; an unknown e-mail still costs a hash verification, so timing tells nothing either.
    """
    user = await find_user_by_email(session, email)
    if user is None:
        verify_password(dummy_hash(), password)
        raise Unauthenticated(LOGIN_FAILED)
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated(LOGIN_FAILED)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    secret = new_session_secret()
    session.add(
        StaffSession(
            token_hash=secret_hash(secret),
            user_id=user.id,
            expires_at=utcnow() + timedelta(hours=session_hours),
        )
    )
    await session.flush()
    return user, secret


async def logout(session: AsyncSession, secret: str) -> bool:
    """Revoke the browser session of this cookie value; False when there was none open."""
    result = await session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == secret_hash(secret), StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(StaffSession.token_hash)
    )
    return bool(result.all())


# -- API tokens ------------------------------------------------------------------------------


async def create_api_token(
    session: AsyncSession,
    *,
    user: StaffUser,
    name: str,
    tenant_slug: str | None,
    expires_in_days: int | None,
    actor: str,
) -> tuple[ApiToken, str]:
    """Issue an API token for ``user``; returns the row and the token (shown once, stored
    hashed). A desk-scoped token needs the user to hold a role on that desk or be operator."""
    name = name.strip()
    problems = []
    if not name or len(name) > 100:
        problems.append(FieldProblem("name", "give the token a name of 1-100 characters"))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        problems.append(FieldProblem("expires_in_days", f"use 1-{MAX_TOKEN_DAYS} days"))
    if problems:
        raise InvalidInput("cannot issue this API token", problems=problems)
    if tenant_slug is not None:
        await _require_tenant(session, tenant_slug)
        if not await policies.holds_role_in(session, user.id, tenant_slug):
            raise Forbidden(f"you hold no role on desk {tenant_slug!r}")
    raw = new_api_token()
    token = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        name=name,
        token_hash=secret_hash(raw),
        tenant_slug=tenant_slug,
        expires_at=None if expires_in_days is None else utcnow() + timedelta(days=expires_in_days),
    )
    session.add(token)
    await session.flush()
    await record(
        session,
        chain="shared",
        actor=actor,
        action="api_token.created",
        target=f"api_token:{token.id}",
        after={
            "user": str(user.id),
            "name": name,
            "tenant": tenant_slug,
            "expires_at": token.expires_at,
        },
    )
    return token, raw


async def revoke_api_token(
    session: AsyncSession, *, user_id: uuid.UUID, token_id: uuid.UUID, actor: str
) -> None:
    """Revoke one of the user's own tokens (someone else's is "not found", never revoked)."""
    token = await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    if token is None:
        raise NotFound(f"you have no API token {token_id}")
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    await record(
        session,
        chain="shared",
        actor=actor,
        action="api_token.revoked",
        target=f"api_token:{token.id}",
        after={"user": str(user_id), "name": token.name, "tenant": token.tenant_slug},
    )


async def names_of(session: AsyncSession, actors: Iterable[str]) -> dict[str, str]:
    """The e-mail of each staff actor (``user:<uuid>``) among ``actors``, for people to read;
    other actors (``trader:7``, ``engine``) are not in the answer."""
    ids = set()
    for actor in actors:
        kind, _, value = actor.partition(":")
        if kind == "user":
            try:
                ids.add(uuid.UUID(value))
            except ValueError:
                continue
    if not ids:
        return {}
    rows = await session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(ids)))
    return {policies.subject_for(user_id): email for user_id, email in rows}
