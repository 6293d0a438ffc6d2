"""The ledger's permissions, registered through the plugin contract like anyone else's."""

from __future__ import annotations

from propdesk.access.permissions import Permission
from propdesk.plugins.markers import hookimpl

LEDGER_PERMISSIONS = [
    Permission(
        "ledger",
        "read",
        "See the desk's ledger: balances, transactions and their entries",
        "tenant",
        ("desk_admin", "finance"),
    ),
]


@hookimpl
def propdesk_register_permissions() -> list[Permission]:
    return LEDGER_PERMISSIONS
