"""Consistency: no single day (or trade) may make too large a share of the profit.

The best day is the largest net closed result (profit, commission and swap of its deals) of
one trading day of ``day``; the best trade the largest net result of a position closed
completely. The rule holds when the total profit (closed, minus profit another rule excluded)
is positive and the best day or trade is at most ``limit`` percent of the denominator: the
total profit, or a fixed profit target (``target``, as MyFundedFutures' $3,000 / 2).

``checked_at: pass`` makes it a target: the account passes only once it holds. Then
``consequence: keep_trading`` (default) waits: with the total-profit denominator the trader
needs a total profit of at least best / limit (Apex's formula: best day / 0.30);
``consequence: fail`` fails the account when this is the only objective left unmet.
``checked_at: payout`` makes it a guard: it never decides the account, its objective says
whether a payout request would be allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.events import Deal, Event
from propdesk.rules.families.common import HUNDREDTH, TradingDays, percent_text, share_text
from propdesk.rules.family import (
    AMOUNT_SCHEMA,
    Finding,
    PhaseContext,
    Role,
    RuleFamily,
    amount_of,
    describe_amount,
    local_time_schema,
)
from propdesk.rules.money import CENT, HUNDRED, PERCENT, ZERO, money, parse_decimal, plain

#: An example best result for the rulebook sentence on what total profit is needed.
_EXAMPLE_BEST = Decimal(1000)


class Consistency(RuleFamily):
    code = "consistency"
    display_name = "Consistency"
    role: Role = "target"
    reacts_to = frozenset({"deal"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["limit"],
        "properties": {
            "scope": {
                "enum": ["day", "trade"],
                "default": "day",
                "description": "Compare the best trading day or the best closed position.",
            },
            "limit": {
                **PERCENT,
                "description": "Most the best day or trade may be, in percent of the "
                "denominator (more than 0, at most 100).",
            },
            "denominator": {
                "enum": ["total_profit", "profit_target"],
                "default": "total_profit",
                "description": "The total profit so far, or the fixed profit target in target.",
            },
            "target": {
                **AMOUNT_SCHEMA,
                "description": "The profit target (denominator: profit_target only).",
            },
            "checked_at": {
                "enum": ["pass", "payout"],
                "default": "pass",
                "description": "pass: an objective to pass; payout: a condition for payouts.",
            },
            "consequence": {
                "enum": ["keep_trading", "fail"],
                "default": "keep_trading",
                "description": "When it is the last unmet objective: wait, or fail the "
                "account (checked_at: pass only).",
            },
            "day": local_time_schema("When trading days start (default: the product's day)."),
        },
        "allOf": [
            {
                "if": {
                    "properties": {"denominator": {"const": "profit_target"}},
                    "required": ["denominator"],
                },
                "then": {"required": ["target"]},
                "else": {"not": {"required": ["target"]}},
            },
            {
                "if": {
                    "properties": {"checked_at": {"const": "payout"}},
                    "required": ["checked_at"],
                },
                "then": {"properties": {"consequence": {"const": "keep_trading"}}},
            },
        ],
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.by_day = params.get("scope", "day") == "day"
        self.limit = parse_decimal(params["limit"])
        if not ZERO < self.limit <= HUNDRED:
            raise ValueError(f"limit {params['limit']} must be more than 0 and at most 100")
        self.on_target = params.get("denominator", "total_profit") == "profit_target"
        if self.on_target != ("target" in params):
            raise ValueError("target is needed when, and only when, denominator is profit_target")
        self.at_payout = params.get("checked_at", "pass") == "payout"
        fails = params.get("consequence", "keep_trading") == "fail"
        if fails and self.at_payout:
            raise ValueError("consequence fail applies only when checked_at is pass")
        if self.at_payout:
            # Checked at payout: it never holds up a pass, it only reports.
            self.role = "guard"
        self.fails_when_alone_unmet = fails
        self.days_of = TradingDays(self.local_time("day"))
        self.target = ZERO
        #: The best result so far and what it was (a day or a position id).
        self.best: Decimal | None = None
        self.best_of: str | None = None
        # scope day: the day being traded and its net result (it may still fall).
        self.today: date | None = None
        self.today_net = ZERO

    @property
    def noun(self) -> str:
        return "day" if self.by_day else "trade"

    def start(self, account: Account, at: datetime) -> Finding | None:
        if self.on_target:
            self.target = amount_of(self.params["target"], account.initial_balance)
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if not isinstance(event, Deal):
            return None
        if self.by_day:
            day = self.days_of.of(event.time)
            if day != self.today:
                self._settle_day()
                self.today, self.today_net = day, ZERO
            self.today_net += event.net
        elif account.closed is not None:
            position_id, position = account.closed
            if self.best is None or position.net > self.best:
                self.best, self.best_of = position.net, position_id
        self.met = self._holds(account.profit)
        return None

    def _settle_day(self) -> None:
        if self.today is not None and (self.best is None or self.today_net > self.best):
            self.best, self.best_of = self.today_net, self.today.isoformat()

    def best_now(self) -> tuple[Decimal | None, str | None]:
        """The best day or trade, the day being traded included."""
        if self.by_day and self.today is not None:
            if self.best is None or self.today_net > self.best:
                return self.today_net, self.today.isoformat()
        return self.best, self.best_of

    def _denominator(self, total: Decimal) -> Decimal:
        return self.target if self.on_target else total

    def _holds(self, total: Decimal) -> bool:
        best, _ = self.best_now()
        if best is None or total <= 0:
            return False
        return best * HUNDRED <= self.limit * self._denominator(total)

    def allowed(self, denominator: Decimal) -> Decimal:
        """The largest best day or trade within the limit, to the cent below."""
        return (self.limit * denominator / HUNDRED).quantize(CENT, rounding=ROUND_FLOOR)

    def minimum_total(self, best: Decimal | None) -> Decimal | None:
        """The total profit at which the best day or trade is within the limit (best / limit)."""
        if self.on_target or best is None or best <= 0:
            return None
        return _cents_up(best * HUNDRED / self.limit)

    # -- explanation --------------------------------------------------------------------------
    def explain(self, account: Account) -> str:
        best, _ = self.best_now()
        total = account.profit
        limit = percent_text(self.limit)
        of = f"the {money(self.target)} profit target" if self.on_target else "total profit"
        if best is None or total <= 0:
            return (
                f"no total profit yet ({money(total)}); the best {self.noun} may be at most "
                f"{limit} of {of}"
            )
        denominator = self._denominator(total)
        share = best * HUNDRED / denominator
        amount = "" if self.on_target else f"{money(total)} "
        text = (
            f"best {self.noun} {money(best)} is {share_text(share, self.limit)} of {amount}{of}; "
            f"at most {limit}"
        )
        if self.on_target:
            return f"{text} ({money(self.allowed(denominator))})"
        needed = self.minimum_total(best)
        if self._holds(total) or needed is None:
            return text
        if self.at_payout:
            return f"{text}: a payout needs a total profit of at least {money(needed)}"
        return f"{text}: keep trading until total profit reaches {money(needed)}"

    def unmet_explanation(self, account: Account) -> str:
        return f"Consistency was not met when every other objective was: {self.explain(account)}."

    def objective(self, account: Account) -> dict[str, Any]:
        best, best_of = self.best_now()
        total = account.profit
        holds = self._holds(total)
        denominator = self._denominator(total)
        share = best * HUNDRED / denominator if best is not None and denominator > 0 else None
        needed = self.minimum_total(best)
        if self.at_payout:
            status = "payout_allowed" if holds else "payout_refused"
        else:
            status = "met" if holds else "not_met"
        return {
            "status": status,
            "scope": self.noun,
            "checked_at": "payout" if self.at_payout else "pass",
            f"best_{self.noun}": best_of,
            "best": plain(best) if best is not None else None,
            "total_profit": plain(total),
            "denominator": plain(denominator),
            "ratio_percent": plain(share.quantize(HUNDREDTH)) if share is not None else None,
            "limit_percent": plain(self.limit),
            "allowed_best": plain(self.allowed(denominator)) if denominator > 0 else None,
            "min_total_profit": plain(needed) if needed is not None else None,
            "text": self.explain(account),
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        noun = "day" if params.get("scope", "day") == "day" else "trade (a closed position)"
        limit = parse_decimal(params["limit"])
        on_target = params.get("denominator", "total_profit") == "profit_target"
        of = (
            f"the profit target of {describe_amount(params['target'], context.currency)}"
            if on_target
            else "your total profit"
        )
        at_payout = params.get("checked_at", "pass") == "payout"
        lead = "To request a payout, your" if at_payout else "To pass, your"
        text = f"{lead} best {noun} may be at most {percent_text(limit)} of {of}."
        if noun == "day":
            day = params.get("day") or context.trading_day.spec
            text += f" Days start at {day['time']} {day['timezone']}."
        if params.get("consequence") == "fail":
            text += " If it is more when every other objective is met, the account fails."
        elif not on_target:
            needed = _cents_up(_EXAMPLE_BEST * HUNDRED / limit)
            text += (
                f" If it is more, keep trading: with a best {noun.split(' ')[0]} of "
                f"{money(_EXAMPLE_BEST)} you need a total profit of at least {money(needed)}."
            )
        return text


def _cents_up(amount: Decimal) -> Decimal:
    # A minimum shown to cents must itself be enough: 1,000 / 30% is 3,333.34, not 3,333.33.
    return amount.quantize(CENT, rounding=ROUND_CEILING)
