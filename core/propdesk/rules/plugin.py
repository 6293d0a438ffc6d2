"""The standard rule families, registered through the plugin contract like a vendor's."""

from __future__ import annotations

from propdesk.plugins.markers import hookimpl
from propdesk.rules.families.consistency import Consistency
from propdesk.rules.families.daily_loss import DailyLoss
from propdesk.rules.families.flat_by import FlatBy
from propdesk.rules.families.inactivity import Inactivity
from propdesk.rules.families.max_loss import MaxLoss
from propdesk.rules.families.max_position import MaxPosition
from propdesk.rules.families.min_trading_days import MinTradingDays
from propdesk.rules.families.news_window import NewsWindow
from propdesk.rules.families.per_trade_loss import PerTradeLoss
from propdesk.rules.families.profit_target import ProfitTarget
from propdesk.rules.families.time_limit import TimeLimit
from propdesk.rules.family import RuleFamily

STANDARD_FAMILIES: list[type[RuleFamily]] = [
    DailyLoss,
    MaxLoss,
    MaxPosition,
    PerTradeLoss,
    FlatBy,
    NewsWindow,
    ProfitTarget,
    MinTradingDays,
    Consistency,
    TimeLimit,
    Inactivity,
]


@hookimpl
def propdesk_register_rule_families() -> list[type[RuleFamily]]:
    return list(STANDARD_FAMILIES)
