"""The product JSON Schema, composed from the core schema and the registered rule families.

Only the schema and its validators live here, so that what a product may say can be read
apart from how its problems are worded and from the checks that go beyond a schema.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from propdesk.rules.clock import LOCAL_TIME_SCHEMA, is_timezone
from propdesk.rules.family import RuleFamily
from propdesk.rules.money import NON_NEGATIVE_DECIMAL, PERCENT

PRODUCT_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"
#: Codes of phases, sizes, add-ons and rule ids.
CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
PRICE_PATTERN = r"^\d{1,9}(\.\d{1,2})?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
PHASE_KINDS = ("evaluation", "funded", "instant")
CADENCES = ("on_demand", "weekly", "biweekly", "monthly")

_CODE = {"type": "string", "pattern": CODE_PATTERN}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
_PRICES = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": CURRENCY_PATTERN},
    "additionalProperties": {"type": "string", "pattern": PRICE_PATTERN},
}
POSITIVE_DECIMAL = {"type": "string", "pattern": r"^(?!0+(\.0+)?$)\d{1,15}(\.\d{1,8})?$"}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 100000}
_POSITIVE_COUNT = {"type": "integer", "minimum": 1, "maximum": 100000}


def _payout_schema(required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {
            "split_percent": PERCENT,
            "split_tiers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["from_payout", "split_percent"],
                    "properties": {"from_payout": _POSITIVE_COUNT, "split_percent": PERCENT},
                },
            },
            "first_after_days": {**_COUNT, "default": 0},
            "cadence": {"enum": list(CADENCES)},
            "min_amount": {**NON_NEGATIVE_DECIMAL, "default": "0"},
            "profit_cap_percent": PERCENT,
            "flat_required": {"type": "boolean", "default": True},
            "consistency": {
                "type": "object",
                "additionalProperties": False,
                "required": ["best_day_max_percent"],
                "properties": {"best_day_max_percent": PERCENT},
            },
            "kyc_required": {"type": "boolean", "default": True},
        },
    }


def _scaling_schema(required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {
            "cycle_months": {"type": "integer", "minimum": 1, "maximum": 120},
            "min_profit_percent": PERCENT,
            "min_payouts": {**_COUNT, "default": 0},
            "balance_increase_percent": PERCENT,
            "split_percent": PERCENT,
            "max_balance": POSITIVE_DECIMAL,
        },
    }


#: What the platform does to a phase's account when a rule breaches it (trading is always
#: disabled). Absent: the defaults.
ON_BREACH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "What happens on the platform when a rule fails this phase's account: "
    "trading is always disabled; open positions are closed unless close_positions is false.",
    "properties": {
        "close_positions": {
            "type": "boolean",
            "default": True,
            "description": "Close every open position at market when the account fails "
            "(false: leave them open, frozen, for the desk to handle).",
        },
    },
}

PAYOUT_SCHEMA = _payout_schema(["split_percent", "cadence"])
SCALING_SCHEMA = _scaling_schema(["cycle_months", "min_profit_percent", "balance_increase_percent"])

_EFFECT_TARGET = {
    "rule": _CODE,
    "phases": {"type": "array", "items": _CODE, "minItems": 1, "uniqueItems": True},
}
_EFFECTS: list[dict[str, Any]] = [
    {
        "if": {"properties": {"op": {"const": "set_rule"}}, "required": ["op"]},
        "then": {
            "required": ["rule", "params"],
            "properties": {"op": True, **_EFFECT_TARGET, "params": {"type": "object"}},
            "additionalProperties": False,
        },
    },
    {
        "if": {"properties": {"op": {"const": "remove_rule"}}, "required": ["op"]},
        "then": {
            "required": ["rule"],
            "properties": {"op": True, **_EFFECT_TARGET},
            "additionalProperties": False,
        },
    },
    {
        "if": {"properties": {"op": {"const": "set_payout"}}, "required": ["op"]},
        "then": {
            "required": ["payout"],
            "properties": {"op": True, "payout": {"type": "object", "minProperties": 1}},
            "additionalProperties": False,
        },
    },
    {
        "if": {"properties": {"op": {"const": "set_scaling"}}, "required": ["op"]},
        "then": {
            "required": ["scaling"],
            "properties": {"op": True, "scaling": {"type": ["object", "null"]}},
            "additionalProperties": False,
        },
    },
]

CORE_PRODUCT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Propdesk challenge product (format 1)",
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "currency", "trading_day", "sizes", "phases", "payout"],
    "properties": {
        "code": {"type": "string", "pattern": PRODUCT_CODE_PATTERN},
        "name": _TEXT,
        "description": {"type": "string", "maxLength": 20000},
        "currency": {"type": "string", "pattern": CURRENCY_PATTERN},
        "trading_day": LOCAL_TIME_SCHEMA,
        "sizes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "balance", "prices"],
                "properties": {
                    "code": _CODE,
                    "balance": POSITIVE_DECIMAL,
                    "prices": _PRICES,
                    "overrides": {
                        "type": "object",
                        "propertyNames": {"pattern": CODE_PATTERN},
                        "additionalProperties": {"type": "object"},
                    },
                },
            },
        },
        "phases": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name", "kind", "platform", "group", "leverage", "rules"],
                "properties": {
                    "code": _CODE,
                    "name": _TEXT,
                    "kind": {"enum": list(PHASE_KINDS)},
                    "platform": _CODE,
                    "group": {"type": "string", "minLength": 1, "maxLength": 200},
                    "leverage": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
                    "on_breach": ON_BREACH_SCHEMA,
                },
            },
        },
        "addons": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name", "prices", "effects"],
                "properties": {
                    "code": _CODE,
                    "name": _TEXT,
                    "description": {"type": "string", "maxLength": 5000},
                    "prices": _PRICES,
                    "effects": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["op"],
                            "properties": {
                                "op": {
                                    "enum": ["set_rule", "remove_rule", "set_payout", "set_scaling"]
                                }
                            },
                            "allOf": _EFFECTS,
                        },
                    },
                },
            },
        },
        "payout": PAYOUT_SCHEMA,
        "scaling": {"oneOf": [{"type": "null"}, SCALING_SCHEMA]},
        "kyc": {
            "type": "object",
            "additionalProperties": False,
            "description": "Where the product asks for an approved identity check (payouts: "
            "payout.kyc_required).",
            "properties": {
                "before_purchase": {"type": "boolean", "default": False},
                "before_funded": {"type": "boolean", "default": True},
            },
        },
        "reset": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["prices"],
                    "properties": {"prices": _PRICES},
                },
            ]
        },
        "retry": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["discount_percent", "within_days"],
                    "properties": {"discount_percent": PERCENT, "within_days": _POSITIVE_COUNT},
                },
            ]
        },
        "fee_refund": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["with_payout"],
                    "properties": {"with_payout": _POSITIVE_COUNT},
                },
            ]
        },
    },
}


def _def_name(code: str) -> str:
    return "family_" + re.sub(r"[^A-Za-z0-9_.-]", "_", code)


def product_schema(families: Mapping[str, type[RuleFamily]]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a product whose rules use ``families``."""
    codes = sorted(families)
    defs: dict[str, Any] = {}
    cases = []
    for code in codes:
        schema = dict(families[code].settings_schema)
        # Its own resource: the family's internal "$ref"s resolve inside its schema.
        schema.setdefault("$id", f"urn:propdesk:rule-family:{code}")
        defs[_def_name(code)] = schema
        cases.append(
            {
                "if": {"properties": {"family": {"const": code}}, "required": ["family"]},
                "then": {"properties": {"params": {"$ref": f"#/$defs/{_def_name(code)}"}}},
            }
        )
    rule = {
        "type": "object",
        "additionalProperties": False,
        "required": ["family", "params"],
        "properties": {
            "id": _CODE,
            "family": {"enum": codes} if codes else {"type": "string", "not": {}},
            "params": {"type": "object"},
        },
        "allOf": cases,
    }
    return {**CORE_PRODUCT_SCHEMA, "$defs": {"rule": rule, **defs}}


def format_checker() -> FormatChecker:
    """The standard formats plus ``iana-timezone``."""
    checker = FormatChecker()
    checker.checks("iana-timezone")(is_timezone)
    return checker


_FORMATS = format_checker()


@functools.lru_cache(maxsize=32)
def product_validator(families: tuple[tuple[str, type[RuleFamily]], ...]) -> Any:
    return Draft202012Validator(product_schema(dict(families)), format_checker=_FORMATS)


def validator_for(schema: Mapping[str, Any]) -> Any:
    """A 2020-12 validator of ``schema`` with format checking (``iana-timezone`` included)."""
    return Draft202012Validator(dict(schema), format_checker=_FORMATS)


_FAMILY_VALIDATORS: dict[type[RuleFamily], Any] = {}


def family_validator(family: type[RuleFamily]) -> Any:
    found = _FAMILY_VALIDATORS.get(family)
    if found is None:
        found = _FAMILY_VALIDATORS[family] = validator_for(family.settings_schema)
    return found
