"""Maximum position size: lots per order, and lots open at once.

An order is a deal that opens or adds to a position (entry ``in``); it breaches when its volume
is strictly above ``max_lots_per_order``. After such a deal the lots open across all positions
(``account.open_lots``) must not be strictly above ``max_open_lots``. Closing deals only
reduce exposure and are never judged. With severity ``warn`` every offending order is a
warning and trading goes on; with ``fail`` the first one fails the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from propdesk.rules.account import Account
from propdesk.rules.events import Deal, Event
from propdesk.rules.family import SEVERITY_FAIL_OR_WARN, Finding, PhaseContext, RuleFamily
from propdesk.rules.money import NON_NEGATIVE_DECIMAL, ZERO, parse_decimal, plain


def lots(value: Decimal, unit: str = "lot") -> str:
    """A volume for people: ``1.5 lots``, ``1 lot``, ``5 contracts``."""
    text = format(value.normalize(), "f")
    return f"{text} {unit}" if value == 1 else f"{text} {unit}s"


def _shown(limit: Decimal | None) -> Decimal | str:
    return limit if limit is not None else "none"


class MaxPosition(RuleFamily):
    code = "max_position"
    display_name = "Maximum position size"
    reacts_to = frozenset({"deal"})
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "anyOf": [{"required": ["max_lots_per_order"]}, {"required": ["max_open_lots"]}],
        "properties": {
            "max_lots_per_order": {
                **NON_NEGATIVE_DECIMAL,
                "description": "Largest volume one opening deal may have (no limit when absent).",
            },
            "max_open_lots": {
                **NON_NEGATIVE_DECIMAL,
                "description": "Most lots open at once across all positions "
                "(no limit when absent).",
            },
            "unit": {
                "enum": ["lot", "contract"],
                "default": "lot",
                "description": "What the volume counts, in the trader's words (futures: contract).",
            },
            "severity": {
                **SEVERITY_FAIL_OR_WARN,
                "description": "fail: the account fails; warn: a warning, trading goes on.",
            },
        },
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        per_order, open_lots = params.get("max_lots_per_order"), params.get("max_open_lots")
        self.max_order = parse_decimal(per_order) if per_order is not None else None
        self.max_open = parse_decimal(open_lots) if open_lots is not None else None
        self.warn = params.get("severity", "fail") == "warn"
        self.unit = params.get("unit", "lot")
        self.largest_order = ZERO
        self.peak_open = ZERO
        self.offences = 0

    def on_event(self, event: Event, account: Account) -> Finding | None:
        if not isinstance(event, Deal) or event.entry != "in":
            return None
        self.largest_order = max(self.largest_order, event.volume)
        self.peak_open = max(self.peak_open, account.open_lots)
        problems = []
        if self.max_order is not None and event.volume > self.max_order:
            problems.append(
                f"the order of {lots(event.volume, self.unit)} is above the maximum of "
                f"{lots(self.max_order, self.unit)} per order"
            )
        if self.max_open is not None and account.open_lots > self.max_open:
            problems.append(
                f"it brings the open volume to {lots(account.open_lots, self.unit)}, above the "
                f"maximum of {lots(self.max_open, self.unit)} open at once"
            )
        if not problems:
            return None
        self.offences += 1
        text = (
            f"{event.side.capitalize()} {event.symbol} {lots(event.volume, self.unit)} "
            f"(deal {event.id}): " + " and ".join(problems) + "."
        )
        return self.finding(
            "warn" if self.warn else "breach",
            event.time,
            text,
            volume=event.volume,
            open_lots=account.open_lots,
            max_lots_per_order=_shown(self.max_order),
            max_open_lots=_shown(self.max_open),
        )

    def objective(self, account: Account) -> dict[str, Any]:
        status = "ok" if not self.offences else ("warned" if self.warn else "breached")
        limits = []
        if self.max_order is not None:
            limits.append(f"at most {lots(self.max_order, self.unit)} per order")
        if self.max_open is not None:
            limits.append(f"at most {lots(self.max_open, self.unit)} open")
        return {
            "status": status,
            "largest_order": plain(self.largest_order),
            "open_lots": plain(account.open_lots),
            "peak_open_lots": plain(self.peak_open),
            "max_lots_per_order": plain(self.max_order) if self.max_order is not None else None,
            "max_open_lots": plain(self.max_open) if self.max_open is not None else None,
            "offences": self.offences,
            "text": ", ".join(limits),
        }

    @classmethod
    def describe(cls, params: Mapping[str, Any], context: PhaseContext) -> str:
        unit = params.get("unit", "lot")
        parts = []
        if "max_lots_per_order" in params:
            per_order = lots(parse_decimal(params["max_lots_per_order"]), unit)
            parts.append(f"a single order may open at most {per_order}")
        if "max_open_lots" in params:
            open_lots = lots(parse_decimal(params["max_open_lots"]), unit)
            parts.append(f"at most {open_lots} may be open at once across all positions")
        consequence = (
            "is recorded as a warning"
            if params.get("severity", "fail") == "warn"
            else "fails the account"
        )
        text = "; ".join(parts)
        return f"{text[:1].upper()}{text[1:]}. Going above {consequence}."
