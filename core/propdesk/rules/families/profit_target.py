"""Profit target: the account must make a profit of ``amount`` to pass.

The profit is the measure (closed balance by default, or equity with floating results) minus
the initial balance, minus any profit another rule excluded (e.g. trades in a news window),
minus the net balance operations: a payout withdrawal does not take progress away and a deposit
is not profit (the target level moves by the operation's amount, as the loss floors do).
With ``flat_required`` the target counts only while no position is open (FTMO: "all
positions must be closed"); it defaults to false because a closed-balance target already
ignores floating profit, and some firms pass an account the moment equity touches the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.events import Event
from propdesk.rules.families.common import HUNDREDTH, WHOLE, percent_text
from propdesk.rules.family import (
    AMOUNT_SCHEMA,
    ANYTHING,
    HIGH,
    LOW,
    Band,
    Finding,
    PhaseContext,
    RuleFamily,
    amount_of,
    describe_amount,
)
from propdesk.rules.money import HUNDRED, ZERO, money, plain


class ProfitTarget(RuleFamily):
    code = "profit_target"
    display_name = "Profit target"
    role = "target"
    reacts_to = frozenset({"deal", "snapshot", "balance"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "amount": {
                **AMOUNT_SCHEMA,
                "description": "The profit to make: a percentage of the initial balance or fixed.",
            },
            "measure": {
                "enum": ["balance", "equity"],
                "default": "balance",
                "description": "Closed balance, or equity including floating profit and loss.",
            },
            "flat_required": {
                "type": "boolean",
                "default": False,
                "description": "The target counts only with every position closed.",
            },
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.on_equity = params.get("measure", "balance") == "equity"
        self.flat_required: bool = params.get("flat_required", False)
        self.initial = self.amount = self.level = self.met_from = ZERO
        self.flat = True

    def _measure(self, account: Account) -> Decimal:
        return account.equity if self.on_equity else account.balance

    def _decide(self, account: Account) -> None:
        # The measure at which the target is reached, and whether a position blocks it.
        self.met_from = self.level + account.excluded_profit + account.balance_operations
        self.flat = account.flat
        reached = self._measure(account) >= self.met_from
        self.met = reached and (self.flat or not self.flat_required)

    def start(self, account: Account, at: datetime) -> Finding | None:
        self.initial = account.initial_balance
        self.amount = amount_of(self.params["amount"], self.initial)
        self.level = self.initial + self.amount
        self._decide(account)
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        self._decide(account)
        return None

    def reopen(self, at: datetime, account: Account) -> None:
        # Balance operations may have reached the decided account: the level moves with them.
        self._decide(account)

    def quiet_band(self) -> Band | None:
        if self.flat_required and not self.flat:
            return ANYTHING  # a snapshot never closes a position
        if self.met:
            low, high = self.met_from, HIGH
        else:
            low, high = LOW, self.met_from.next_minus()
        return (low, high, LOW, HIGH) if self.on_equity else (LOW, HIGH, low, high)

    def objective(self, account: Account) -> dict[str, Any]:
        measure = self._measure(account)
        operations = account.balance_operations
        profit = measure - self.initial - account.excluded_profit - operations
        remaining = max(self.amount - profit, ZERO)
        share = profit * HUNDRED / self.amount if self.amount else None
        reached = profit >= self.amount
        waiting = reached and self.flat_required and not account.flat
        if waiting:
            count = len(account.positions)
            text = (
                f"profit {money(profit)} reached the {money(self.amount)} target; close the "
                f"{count} open position{'s' * (count != 1)} for it to count"
            )
        elif reached:
            text = f"profit {money(profit)} reached the {money(self.amount)} target"
        else:
            done = ""
            if share is not None and share > 0:
                done = f" ({percent_text(share.quantize(WHOLE, rounding=ROUND_FLOOR))})"
            text = (
                f"profit {money(profit)} of the {money(self.amount)} target{done}; "
                f"{money(remaining)} to go"
            )
        return {
            "status": "met" if self.met else "not_met",
            "measure": "equity" if self.on_equity else "balance",
            "current": plain(measure),
            "target": plain(self.amount),
            "target_level": plain(self.level + account.excluded_profit + operations),
            "progress": plain(profit),
            "progress_percent": (
                plain(share.quantize(HUNDREDTH, rounding=ROUND_FLOOR))
                if share is not None
                else None
            ),
            "remaining": plain(remaining),
            "excluded_profit": plain(account.excluded_profit),
            "balance_operations": plain(operations),
            "flat_required": self.flat_required,
            "open_positions": len(account.positions),
            "text": text,
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        amount = describe_amount(params["amount"], context.currency)
        if params.get("measure", "balance") == "equity":
            text = f"Reach a profit of {amount} on your equity (floating profit counts)"
        else:
            text = f"Reach a profit of {amount} on your closed balance"
        if params.get("flat_required", False):
            text += ", with every position closed"
        return (
            text + ". Profit excluded by another rule does not count; deposits do not count "
            "and payouts do not reduce it."
        )
