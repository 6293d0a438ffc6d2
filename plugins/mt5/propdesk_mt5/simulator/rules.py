"""The server's rules that need no state: passwords, trading rights, group masks, volumes."""

from __future__ import annotations

import re
from collections.abc import Callable

from propdesk_mt5.protocol import DealAction, Rights

#: Volumes (1/10000 lot): 0.01 lot steps, at most 1000 lots per order.
VOLUME_STEP = 100
VOLUME_MAX = 10_000_000
#: Deal and order (= position) tickets start far apart so they are not confused in logs.
FIRST_DEAL = 1_000_001
FIRST_ORDER = 5_000_001
#: Balance operations a manager may make with ``trade/balance``.
MANAGER_BALANCE_TYPES = frozenset(
    {
        DealAction.BALANCE,
        DealAction.CREDIT,
        DealAction.CHARGE,
        DealAction.CORRECTION,
        DealAction.BONUS,
    }
)


def strong_password(password: str) -> bool:
    """8-16 characters with a lower-case letter, an upper-case letter, a digit and another."""
    return (
        8 <= len(password) <= 16
        and any(c.islower() for c in password)
        and any(c.isupper() for c in password)
        and any(c.isdigit() for c in password)
        and any(not c.isalnum() for c in password)
    )


def may_trade(rights: int) -> bool:
    """What the trader's terminal needs to trade (managers' dealer requests ignore it)."""
    blocked = Rights.TRADE_DISABLED | Rights.READONLY
    return bool(rights & Rights.ENABLED) and not rights & blocked


def group_matcher(mask: str) -> Callable[[str], bool]:
    """An MT5 group mask: comma-separated patterns, ``*`` any text, ``!`` excludes."""
    include: list[re.Pattern[str]] = []
    exclude: list[re.Pattern[str]] = []
    for item in (part.strip() for part in mask.split(",")):
        if not item:
            continue
        target = exclude if item.startswith("!") else include
        pattern = ".*".join(re.escape(piece) for piece in item.lstrip("!").split("*"))
        target.append(re.compile(pattern, re.IGNORECASE | re.DOTALL))

    def matches(name: str) -> bool:
        if any(p.fullmatch(name) for p in exclude):
            return False
        return any(p.fullmatch(name) for p in include) if include else bool(exclude)

    return matches
