"""The lifecycle's permissions, registered through the plugin contract like anyone else's."""

from __future__ import annotations

from propdesk.access.permissions import Permission
from propdesk.plugins.markers import hookimpl

LIFECYCLE_PERMISSIONS = [
    Permission(
        "challenges",
        "read",
        "See the desk's challenges, their accounts and their history",
        "tenant",
        ("desk_admin", "risk", "finance", "support"),
    ),
    Permission(
        "challenges",
        "operate",
        "Reinstate, extend, advance or re-bind a challenge (with a reason, audited)",
        "tenant",
        ("desk_admin", "risk"),
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return LIFECYCLE_PERMISSIONS
