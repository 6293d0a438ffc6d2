"""The rule families a product may use: the core's and those of plugins a desk enabled."""

from __future__ import annotations

from typing import cast

from propdesk.plugins.manager import PluginHost
from propdesk.rules.family import RuleFamily
from propdesk.tenancy.context import TenantContext

HOOK = "propdesk_register_rule_families"


def rule_families(
    host: PluginHost, tenant: TenantContext | None = None
) -> dict[str, type[RuleFamily]]:
    """Families by code: every installed one, or only those ``tenant`` may use."""
    registry = host.component(HOOK)
    if tenant is None:
        found = {entry.code: entry.item for entry in registry}
    else:
        found = registry.for_tenant(tenant)
    return {code: cast(type[RuleFamily], item) for code, item in found.items()}
