"""The demo's staff: an operator and leadership across desks; an admin, finance and risk per
desk. Every demo user, staff or trader, signs in with ``DEMO_PASSWORD``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

DEMO_PASSWORD = "propdesk-demo"  # noqa: S105 - printed for every demo sign-in
ACTOR = "system:demo"
OPERATOR = "operator@propdesk.demo"
LEADERSHIP = "leadership@propdesk.demo"
#: Desk roles and the mailbox of the desk's demo user holding each.
DESK_ROLES = {"desk_admin": "admin", "finance": "finance", "risk": "risk"}
WHAT = {
    "desk_admin": "desk_admin of {desk}",
    "finance": "finance of {desk}: approves the demo's payouts",
    "risk": "risk of {desk}: watches breaches and accounts near one",
}


def desk_email(role: str, slug: str) -> str:
    return f"{DESK_ROLES[role]}@{slug.replace('_', '-')}.demo"


async def ensure_staff(runtime: Runtime, slugs: list[str]) -> list[tuple[str, str]]:
    """Create the demo's staff and grant their roles (again: harmless); ``(email, role)``."""
    staff: list[tuple[str, str, str | None]] = [
        (OPERATOR, "operator", None),
        (LEADERSHIP, "leadership", None),
    ]
    staff += [(desk_email(role, slug), role, slug) for slug in slugs for role in DESK_ROLES]
    for email, role, slug in staff:
        await _ensure(runtime, email, role, slug)
    return [
        (email, WHAT[role].format(desk=slug) if slug else f"{role}, all desks")
        for email, role, slug in staff
    ]


async def _ensure(runtime: Runtime, email: str, role: str, slug: str | None) -> None:
    from propdesk.access import service
    from propdesk.tenancy.directory import load_tenant

    async with runtime.db.unit_of_work() as session:
        user = await service.find_user_by_email(session, email)
        if user is None:
            await service.create_user(
                session,
                email=email,
                password=DEMO_PASSWORD,
                actor=ACTOR,
                display_name=email.split("@")[0],
            )
    async with runtime.db.session() as session:
        tenant = await load_tenant(session, slug) if slug else None
    async with runtime.db.unit_of_work(tenant) as session:
        user = await service.find_user_by_email(session, email)
        assert user is not None
        await service.grant_role(
            session,
            user=user,
            role=role,
            tenant_slug=slug,
            actor=ACTOR,
            redis_url=runtime.redis_url,
        )
