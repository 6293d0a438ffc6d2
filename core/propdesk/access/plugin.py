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
    Permission(
        "traders",
        "read",
        "Find the desk's traders and see each one's profile, identity check and story",
        "tenant",
        ("desk_admin", "risk", "finance", "support"),
    ),
    Permission(
        "settings",
        "read",
        "See the desk's enabled plugins and their settings (secrets only as references)",
        "tenant",
        ("desk_admin",),
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return CORE_PERMISSIONS
