"""Reading and writing the casbin rules in ``propdesk.casbin_rule``, in the caller's transaction.

Rows (``v1`` is always the domain: a desk slug or ``*`` for the whole group):

- ``p, <role>, <domain>, <object>, <action>``: a role may do something;
- ``g, user:<uuid>, <role>, <domain>, ''``: a staff user holds a role. ``v3`` is the empty
  string, not NULL, so the table's unique constraint also keeps grants unique.

Writers call ``notify_policy_changed`` so every process reloads after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.enforcer import (
    GROUP_DOMAIN,
    publish_policy_changed,
    reload_local_enforcers,
)
from propdesk.access.models import PolicyRule
from propdesk.access.permissions import GROUP_ROLES, TENANT_ROLES, Permission
from propdesk.db.engine import after_commit
from propdesk.tenancy.naming import is_valid_slug

PermissionMap = Mapping[tuple[str, str], Permission]
_NOTIFY_FLAG = "propdesk.access.policy_notify"
_UNIQUE = "uq_casbin_rule_rule"


def subject_for(user_id: uuid.UUID | str) -> str:
    """The casbin subject naming a staff user."""
    return f"user:{user_id}"


@dataclass(frozen=True, order=True)
class RoleGrant:
    """A role held by a staff user: in one desk, or group-wide when ``tenant`` is None."""

    role: str
    tenant: str | None

    @property
    def domain(self) -> str:
        return self.tenant or GROUP_DOMAIN

    def __str__(self) -> str:
        return f"{self.role} on {'every desk' if self.tenant is None else self.tenant}"


# -- role policies ---------------------------------------------------------------------------


async def _policies_in(session: AsyncSession, domain: str) -> set[tuple[str, str, str]]:
    rows = await session.execute(
        select(PolicyRule.v0, PolicyRule.v2, PolicyRule.v3).where(
            PolicyRule.ptype == "p", PolicyRule.v1 == domain
        )
    )
    return {(role, obj, act or "") for role, obj, act in rows}


async def _insert(session: AsyncSession, ptype: str, values: tuple[str, str, str, str]) -> bool:
    """Insert one rule unless it exists; whether it was new."""
    v0, v1, v2, v3 = values
    statement = (
        insert(PolicyRule)
        .values(ptype=ptype, v0=v0, v1=v1, v2=v2, v3=v3)
        .on_conflict_do_nothing(constraint=_UNIQUE)
        .returning(PolicyRule.id)
    )
    return (await session.scalar(statement)) is not None


async def _delete_policies(
    session: AsyncSession, domain: str, rules: set[tuple[str, str, str]]
) -> None:
    if not rules:
        return
    await session.execute(
        delete(PolicyRule).where(
            PolicyRule.ptype == "p",
            PolicyRule.v1 == domain,
            or_(
                *(
                    and_(PolicyRule.v0 == role, PolicyRule.v2 == obj, PolicyRule.v3 == act)
                    for role, obj, act in rules
                )
            ),
        )
    )


async def _sync_domain(
    session: AsyncSession,
    domain: str,
    roles: tuple[str, ...],
    desired: set[tuple[str, str, str]],
    registered: set[tuple[str, str]],
    where: str,
) -> list[str]:
    """Add ``desired`` rules; drop rules of ``roles`` whose permission is no longer registered."""
    existing = {rule for rule in await _policies_in(session, domain) if rule[0] in roles}
    stale = {rule for rule in existing if (rule[1], rule[2]) not in registered}
    changes = []
    for role, obj, act in sorted(desired - existing):
        if await _insert(session, "p", (role, domain, obj, act)):
            changes.append(f"{role} may now {obj}:{act}{where}")
    await _delete_policies(session, domain, stale)
    changes.extend(f"{role} may no longer {obj}:{act}{where}" for role, obj, act in sorted(stale))
    return changes


async def sync_tenant_roles(
    session: AsyncSession, tenant_slug: str, permissions: PermissionMap
) -> list[str]:
    """Give the desk's roles the desk permissions they hold by default; idempotent.

    Adds ``p, <role>, <slug>, <obj>, <act>`` for each registered desk permission and each desk
    role in its ``default_roles``, and removes the desk's role rules whose permission is no
    longer registered. Returns what changed, e.g. ``["desk_admin may now staff:manage"]``.
    """
    if not is_valid_slug(tenant_slug):
        raise ValueError(f"not a desk slug: {tenant_slug!r}")
    desk = [p for p in permissions.values() if p.scope == "tenant"]
    desired = {
        (role, p.object, p.action) for p in desk for role in p.default_roles if role in TENANT_ROLES
    }
    registered = {p.key for p in desk}
    return await _sync_domain(session, tenant_slug, TENANT_ROLES, desired, registered, "")


async def sync_group_roles(session: AsyncSession, permissions: PermissionMap) -> list[str]:
    """Give the group-wide roles their permissions in domain ``*``; idempotent.

    ``operator`` holds every registered permission; ``leadership`` those whose
    ``default_roles`` include it. Rules for permissions no longer registered are removed.
    """
    desired = {("operator", p.object, p.action) for p in permissions.values()}
    desired |= {
        ("leadership", p.object, p.action)
        for p in permissions.values()
        if "leadership" in p.default_roles
    }
    registered = set(permissions)
    return await _sync_domain(
        session, GROUP_DOMAIN, GROUP_ROLES, desired, registered, " on every desk"
    )


# -- role grants -----------------------------------------------------------------------------


async def add_grant(session: AsyncSession, user_id: uuid.UUID, grant: RoleGrant) -> bool:
    """Record that the user holds ``grant``; False when they already did."""
    return await _insert(session, "g", (subject_for(user_id), grant.role, grant.domain, ""))


async def remove_grant(session: AsyncSession, user_id: uuid.UUID, grant: RoleGrant) -> bool:
    """Remove ``grant`` from the user; False when they did not hold it."""
    result = await session.execute(
        delete(PolicyRule)
        .where(
            PolicyRule.ptype == "g",
            PolicyRule.v0 == subject_for(user_id),
            PolicyRule.v1 == grant.role,
            PolicyRule.v2 == grant.domain,
        )
        .returning(PolicyRule.id)
    )
    return bool(result.all())


def _grant(role: str, domain: str) -> RoleGrant:
    return RoleGrant(role, None if domain == GROUP_DOMAIN else domain)


async def grants_of(session: AsyncSession, user_id: uuid.UUID) -> list[RoleGrant]:
    """Every role the user holds, group-wide ones first."""
    rows = await session.execute(
        select(PolicyRule.v1, PolicyRule.v2).where(
            PolicyRule.ptype == "g", PolicyRule.v0 == subject_for(user_id)
        )
    )
    grants = {_grant(role, domain) for role, domain in rows}
    return sorted(grants, key=lambda g: (g.tenant is not None, g.tenant or "", g.role))


async def grants_by_user(
    session: AsyncSession, domain: str | None = None
) -> dict[uuid.UUID, list[RoleGrant]]:
    """Grants per staff user: all of them, or only those in ``domain``."""
    statement = select(PolicyRule.v0, PolicyRule.v1, PolicyRule.v2).where(PolicyRule.ptype == "g")
    if domain is not None:
        statement = statement.where(PolicyRule.v2 == domain)
    found: dict[uuid.UUID, set[RoleGrant]] = {}
    for subject, role, grant_domain in await session.execute(statement):
        if not subject.startswith("user:"):
            continue
        found.setdefault(uuid.UUID(subject[5:]), set()).add(_grant(role, grant_domain))
    return {user: sorted(grants, key=str) for user, grants in found.items()}


async def holds_role_in(session: AsyncSession, user_id: uuid.UUID, tenant_slug: str) -> bool:
    """Whether the user holds any role in this desk, or is an operator."""
    grants = await grants_of(session, user_id)
    return any(g.tenant == tenant_slug or g == RoleGrant("operator", None) for g in grants)


# -- propagation -----------------------------------------------------------------------------


def notify_policy_changed(session: AsyncSession, redis_url: str) -> None:
    """After ``session`` commits, reload this process's enforcers and tell the others.

    Registered once per transaction however many rules changed. A failed publish is logged,
    not raised: the change is committed, and other processes catch up on their periodic reload.
    """
    if session.info.get(_NOTIFY_FLAG):
        return
    session.info[_NOTIFY_FLAG] = True

    async def announce() -> None:
        session.info.pop(_NOTIFY_FLAG, None)
        await reload_local_enforcers()
        await publish_policy_changed(redis_url)

    after_commit(session, announce)
