"""The catalogue's permissions, registered through the plugin contract like anyone else's."""

from __future__ import annotations

from propdesk.access.permissions import Permission
from propdesk.plugins.markers import hookimpl

CATALOGUE_PERMISSIONS = [
    Permission(
        "catalogue",
        "read",
        "See the desk's challenge products, their versions, diffs and rulebooks",
        "tenant",
        ("desk_admin", "risk", "finance", "support"),
    ),
    Permission(
        "catalogue",
        "manage",
        "Edit drafts of challenge products, publish and retire versions",
        "tenant",
        ("desk_admin",),
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return CATALOGUE_PERMISSIONS
