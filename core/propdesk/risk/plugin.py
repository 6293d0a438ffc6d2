"""Risk cases' permission, registered through the plugin contract."""

from __future__ import annotations

from propdesk.access.permissions import Permission
from propdesk.plugins.markers import hookimpl

RISK_PERMISSIONS = [
    Permission(
        "risk_cases",
        "read",
        "See the desk's risk cases (disputes, ...)",
        "tenant",
        ("desk_admin", "risk"),
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return RISK_PERMISSIONS
