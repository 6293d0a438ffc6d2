"""Per-trade loss: no single position may lose more than a limit.

A trade is a position from its first deal to the deal that closes it completely; its result is
the net of all its deals (profit + commission + swap), so partial closes add up and the opening
commission counts. It is judged once, when it closes: a net result strictly below ``-limit``
breaches. The limit is a percentage of the initial balance or a fixed amount. With severity
``warn`` every such trade is a warning and trading goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.events import Deal, Event
from propdesk.rules.family import (
    AMOUNT_SCHEMA,
    SEVERITY_FAIL_OR_WARN,
    Finding,
    PhaseContext,
    RuleFamily,
    amount_of,
    describe_amount,
)
from propdesk.rules.money import ZERO, money, plain


class PerTradeLoss(RuleFamily):
    code = "per_trade_loss"
    display_name = "Maximum loss per trade"
    reacts_to = frozenset({"deal"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["amount"],
        "properties": {
            "amount": {
                **AMOUNT_SCHEMA,
                "description": "Most one trade may lose: a percentage of the initial balance "
                "or a fixed amount.",
            },
            "severity": {
                **SEVERITY_FAIL_OR_WARN,
                "description": "fail: the account fails; warn: a warning, trading goes on.",
            },
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        self.warn = params.get("severity", "fail") == "warn"
        self.limit = ZERO
        #: Closing deals seen per open position, to tell a partial close in the explanation.
        self.closing_deals: dict[str, int] = {}
        self.closed_trades = 0
        self.worst: Decimal | None = None
        self.worst_position: str | None = None
        self.offences = 0

    def start(self, account: Account, at: datetime) -> Finding | None:
        self.limit = amount_of(self.params["amount"], account.initial_balance)
        return None

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if not isinstance(event, Deal):
            return None
        closed = account.closed
        known = event.position in account.positions or (
            closed is not None and closed[0] == event.position
        )
        if event.entry == "out" and known:
            self.closing_deals[event.position] = self.closing_deals.get(event.position, 0) + 1
        if closed is None:
            return None
        position_id, position = closed
        closes = self.closing_deals.pop(position_id, 1)
        self.closed_trades += 1
        net = position.net
        if self.worst is None or net < self.worst:
            self.worst, self.worst_position = net, position_id
        if net >= -self.limit:
            return None
        self.offences += 1
        currency = self.context.currency
        partial = f" over {closes} closing deals" if closes > 1 else ""
        text = (
            f"Position {position_id} ({position.side} {position.symbol}) closed{partial} with a "
            f"net loss of {money(-net)} {currency}, more than the limit of "
            f"{money(self.limit)} {currency} per trade "
            f"({describe_amount(self.params['amount'], currency)})."
        )
        return self.finding(
            "warn" if self.warn else "breach",
            event.time,
            text,
            net=net,
            limit=self.limit,
            position=position_id,
        )

    def objective(self, account: Account) -> dict[str, Any]:
        status = "ok" if not self.offences else ("warned" if self.warn else "breached")
        worst = self.worst
        text = f"at most {money(self.limit)} loss per trade"
        if worst is not None and worst < 0:
            text += f" (worst so far {money(-worst)})"
        return {
            "status": status,
            "limit": plain(self.limit),
            "worst_trade": plain(worst) if worst is not None else None,
            "worst_position": self.worst_position,
            "closed_trades": self.closed_trades,
            "offences": self.offences,
            "text": text,
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        limit = describe_amount(params["amount"], context.currency)
        consequence = (
            "is recorded as a warning"
            if params.get("severity", "fail") == "warn"
            else "fails the account"
        )
        return (
            f"No single trade may lose more than {limit}. A trade's result is the profit, "
            "commission and swap of all its deals, partial closes added together, counted when "
            f"the position is fully closed. A bigger loss {consequence}."
        )
