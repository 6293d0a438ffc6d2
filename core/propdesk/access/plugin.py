"""The core's own permissions, registered through the plugin contract like anyone else's."""

from __future__ import annotations

from propdesk.access.permissions import Permission
from propdesk.plugins.markers import hookimpl

CORE_PERMISSIONS = [
    Permission("tenants", "read", "List desks and see their status", "group", ("leadership",)),
    Permission("tenants", "manage", "Suspend and resume desks", "group"),
    Permission("users", "manage", "Create staff users and grant group-wide roles", "group"),
    Permission("plugins", "read", "See installed plugins and their hooks", "group"),
    Permission(
        "reports", "read", "Read consolidated reports across desks", "group", ("leadership",)
    ),
    Permission("staff", "read", "See the desk's staff and their roles", "tenant", ("desk_admin",)),
    Permission("staff", "manage", "Grant and revoke desk roles", "tenant", ("desk_admin",)),
    Permission(
        "audit", "read", "Read the desk's audit trail", "tenant", ("desk_admin", "risk", "finance")
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return CORE_PERMISSIONS
