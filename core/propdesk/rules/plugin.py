"""The standard rule families, registered through the plugin contract like a vendor's."""

from __future__ import annotations

from propdesk.plugins.markers import hookimpl
from propdesk.rules.families.daily_loss import DailyLoss
from propdesk.rules.families.max_loss import MaxLoss
from propdesk.rules.family import RuleFamily

STANDARD_FAMILIES: list[type[RuleFamily]] = [DailyLoss, MaxLoss]


@hookimpl
def propdesk_register_rule_families() -> list[type[RuleFamily]]:
    return list(STANDARD_FAMILIES)
