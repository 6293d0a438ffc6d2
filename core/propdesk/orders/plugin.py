"""Orders' and coupons' permissions, registered through the plugin contract."""

from __future__ import annotations

from propdesk.access.permissions import Permission
from propdesk.plugins.markers import hookimpl

ORDER_PERMISSIONS = [
    Permission(
        "orders",
        "read",
        "See the desk's orders and their payments",
        "tenant",
        ("desk_admin", "finance", "support"),
    ),
    Permission(
        "orders",
        "refund",
        "Refund a paid order through its payment provider",
        "tenant",
        ("desk_admin", "finance"),
    ),
    Permission(
        "coupons",
        "manage",
        "Create and list the desk's coupons and promotions",
        "tenant",
        ("desk_admin", "finance"),
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return ORDER_PERMISSIONS
