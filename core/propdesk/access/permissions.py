"""Permissions and how a route declares the one it needs.

Every route handler carries ``opt=requires("payouts", "approve")`` (or ``public()`` /
``signed_in()``); the app refuses to start when a handler declares none. Deny by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Scope = Literal["tenant", "group"]

#: Roles that span every tenant, and roles held within one tenant.
GROUP_ROLES = ("operator", "leadership")
#: ``bridge`` is a service, not a person: it feeds a desk's platform events to the engine.
TENANT_ROLES = ("desk_admin", "risk", "finance", "support", "partner_manager", "bridge")
ROLES = GROUP_ROLES + TENANT_ROLES

PUBLIC = "public"
SIGNED_IN = "signed_in"


@dataclass(frozen=True)
class Permission:
    """An ``(object, action)`` pair a route or action checks, e.g. ``("payouts", "approve")``.

    ``scope="tenant"`` permissions are checked in the request's tenant; ``"group"`` ones
    across tenants (tenant registry, consolidated reports). ``default_roles`` are granted the
    permission in every tenant by ``propdesk tenants apply``; ``operator`` holds every
    permission.
    """

    object: str
    action: str
    description: str
    scope: Scope = "tenant"
    default_roles: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.object, self.action)

    def __post_init__(self) -> None:
        unknown = set(self.default_roles) - set(ROLES)
        if unknown:
            raise ValueError(f"permission {self.key}: unknown roles {sorted(unknown)}")


def requires(obj: str, act: str) -> dict[str, Any]:
    """Route ``opt`` for a handler that needs permission ``(obj, act)``."""
    return {"permission": (obj, act)}


def public() -> dict[str, Any]:
    """Route ``opt`` for a handler anyone may call (health checks, signed webhooks, login)."""
    return {"permission": PUBLIC}


def signed_in() -> dict[str, Any]:
    """Route ``opt`` for a handler any signed-in staff user may call about themselves."""
    return {"permission": SIGNED_IN}
