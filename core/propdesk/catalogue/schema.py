"""The product JSON Schema, composed from the core schema and the registered rule families,
and ``validate_product``: every problem of a product, each with the JSON pointer it is at.

Validation runs in two stages. The schema first (every error, made readable); then, only on a
product the schema accepts, the checks a schema cannot express: unique codes, references
between sizes, add-ons, phases and rules, the *effective* parameters of every rule after each
size's overrides and after each add-on (validated against the family's schema again, and
given to the family once so that it may refuse them), and the shape of the phase sequence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from propdesk.catalogue.product import (
    RuleSpec,
    apply_rule_effect,
    apply_terms_effect,
    effective_phase,
    phase_context,
    rule_id,
)
from propdesk.rules.clock import LOCAL_TIME_SCHEMA, is_timezone
from propdesk.rules.family import PhaseContext, RuleFamily
from propdesk.rules.money import NON_NEGATIVE_DECIMAL, PERCENT, parse_decimal

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
_POSITIVE_DECIMAL = {"type": "string", "pattern": r"^(?!0+(\.0+)?$)\d{1,15}(\.\d{1,8})?$"}
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
            "max_balance": _POSITIVE_DECIMAL,
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
                    "balance": _POSITIVE_DECIMAL,
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


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a product: where (a JSON pointer, ``""`` = the whole product)."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(path: Iterable[object]) -> str:
    return "".join("/" + escape(part) for part in path)


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
def _product_validator(families: tuple[tuple[str, type[RuleFamily]], ...]) -> Any:
    return Draft202012Validator(product_schema(dict(families)), format_checker=_FORMATS)


def validator_for(schema: Mapping[str, Any]) -> Any:
    """A 2020-12 validator of ``schema`` with format checking (``iana-timezone`` included)."""
    return Draft202012Validator(dict(schema), format_checker=_FORMATS)


_FAMILY_VALIDATORS: dict[type[RuleFamily], Any] = {}


def _family_validator(family: type[RuleFamily]) -> Any:
    found = _FAMILY_VALIDATORS.get(family)
    if found is None:
        found = _FAMILY_VALIDATORS[family] = validator_for(family.settings_schema)
    return found


# -- readable messages --------------------------------------------------------------------------

_PATTERNS = {
    PRODUCT_CODE_PATTERN: "must be 2-40 lowercase letters, digits or hyphens, starting with a "
    "letter or digit, e.g. two-step",
    CODE_PATTERN: "must be 1-40 lowercase letters, digits, hyphens or underscores, starting "
    "with a letter or digit",
    PRICE_PATTERN: 'must be a price: a decimal string with at most 2 decimals, e.g. "540.00"',
    CURRENCY_PATTERN: "must be a three-letter ISO 4217 currency code in capitals, e.g. USD",
    PERCENT["pattern"]: 'must be a percentage written as a decimal string, e.g. "5" or "2.5"',
    NON_NEGATIVE_DECIMAL["pattern"]: 'must be a non-negative decimal string, e.g. "100000"',
    _POSITIVE_DECIMAL["pattern"]: 'must be a positive decimal string, e.g. "100000"',
    r"^-?\d{1,15}(\.\d{1,8})?$": 'must be a decimal string, e.g. "-250.50"',
    r"^([01]\d|2[0-3]):[0-5]\d$": 'must be a time of day written HH:MM, e.g. "17:00"',
}
_KNOWN_FORMATS = {
    "iana-timezone": "is not an IANA timezone (e.g. Europe/Prague)",
}


def _forms(error: ValidationError) -> str:
    shapes = []
    for branch in error.schema.get(error.validator, ()):
        if isinstance(branch, Mapping) and branch.get("required"):
            shapes.append("{" + ", ".join(branch["required"]) + "}")
        elif isinstance(branch, Mapping) and "type" in branch:
            shapes.append(str(branch["type"]))
    return " or ".join(shapes)


def _best_branch(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the oneOf/anyOf branch the value came closest to matching, or None when
    no branch got past the value's own level (then the whole value is the problem)."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    if not branches:
        return None
    depth = len(error.absolute_path)

    def score(errors: list[ValidationError]) -> tuple[int, int]:
        deepest = max(len(e.absolute_path) for e in errors) - depth
        return (deepest, -len(errors))

    def mismatched(errors: list[ValidationError]) -> bool:
        return any(e.validator == "type" and len(e.absolute_path) == depth for e in errors)

    # A branch for another JSON type says nothing about what the value meant to be.
    candidates = [b for b in branches.values() if not mismatched(b)]
    if not candidates:
        return None
    best = max(candidates, key=score)
    if len(candidates) == 1 or score(best)[0] > 0:
        return best
    if {e.validator for e in best} <= {"required", "additionalProperties"}:
        return None
    return best


def _problems(error: ValidationError, families: Mapping[str, type[RuleFamily]]) -> list[Problem]:
    path = list(error.absolute_path)
    where = pointer(path)
    validator, instance = error.validator, error.instance
    if validator in ("oneOf", "anyOf"):
        branch = _best_branch(error)
        if branch is not None:
            return [p for sub in branch for p in _problems(sub, families)]
        if not error.context:
            return [Problem(where, "matches more than one of the allowed forms")]
        if isinstance(instance, Mapping) or instance is None:
            return [Problem(where, f"must be {_forms(error)}")]
        return [Problem(where, f"must be {_forms(error)}, not {_json_type(instance)}")]
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [Problem(pointer([*path, missing]), "is required")]
    if validator == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {})
        patterns = list(error.schema.get("patternProperties", {}))
        extras = [
            key
            for key in instance
            if key not in known and not any(re.search(p, key) for p in patterns)
        ]
        return [Problem(pointer([*path, key]), "is not a known field") for key in extras]
    if validator == "enum" and len(path) >= 2 and path[-1] == "family" and "rules" in path:
        registered = ", ".join(sorted(families)) or "none"
        return [Problem(where, f"unknown rule family {instance!r} (installed: {registered})")]
    if validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return [Problem(where, f"must be one of: {allowed}")]
    if validator == "pattern" and error.validator_value in _PATTERNS:
        return [Problem(where, f"{instance!r} {_PATTERNS[error.validator_value]}")]
    if validator == "propertyNames":
        return [Problem(where, error.message)]
    if validator == "type":
        expected = error.validator_value
        if (
            expected == "string"
            and isinstance(instance, int | float)
            and not isinstance(instance, bool)
        ):
            return [Problem(where, f"{instance} is a JSON number: write it as a decimal string")]
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return [Problem(where, f"must be {_article(wanted)}, not {_json_type(instance)}")]
    if validator == "format" and error.validator_value in _KNOWN_FORMATS:
        return [Problem(where, f"{instance!r} {_KNOWN_FORMATS[error.validator_value]}")]
    if validator == "minItems":
        count = error.validator_value
        return [Problem(where, f"must have at least {count} item{'s' if count != 1 else ''}")]
    if validator == "minProperties":
        return [Problem(where, "must not be empty")]
    return [Problem(where, error.message)]


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _sort_key(problem: Problem) -> tuple[Any, ...]:
    parts = problem.pointer.split("/")[1:] if problem.pointer else []
    return (
        tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts),
        problem.message,
    )


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, in document order of its pointer (array indexes numerically)."""
    return sorted(set(problems), key=_sort_key)


def schema_problems(
    schema_validator: Any,
    data: Any,
    families: Mapping[str, type[RuleFamily]],
    prefix: str = "",
) -> list[Problem]:
    """Every error of ``data`` against a validator, made readable, pointers under ``prefix``."""
    found = []
    for error in schema_validator.iter_errors(data):
        for problem in _problems(error, families):
            found.append(Problem(prefix + problem.pointer, problem.message))
    return found


# -- validation ---------------------------------------------------------------------------------


def validate_product(data: Any, families: Mapping[str, type[RuleFamily]]) -> list[Problem]:
    """Every problem of product ``data``, sorted by pointer; empty when it is valid."""
    validator = _product_validator(tuple(sorted(families.items())))
    problems = schema_problems(validator, data, families)
    if not problems:
        problems = _Semantics(data, families).check()
    return sort_problems(problems)


def _duplicates(codes: Sequence[str], pointers: Sequence[str], what: str) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for index, code in enumerate(codes):
        if code in seen:
            first = pointers[seen[code]]
            problems.append(
                Problem(pointers[index], f"duplicate {what} {code!r} (also at {first})")
            )
        else:
            seen[code] = index
    return problems


def _tokens(where: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in where.split("/")[1:]]


def _deepest_in(patch: Any, path: Sequence[object]) -> list[object]:
    """The longest prefix of ``path`` that exists in ``patch`` (where to point at)."""
    found: list[object] = []
    node = patch
    for part in path:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
            found.append(part)
        else:
            break
    return found


#: Where the phases a problem was found in go in its message.
_PHASES = "\x00phases\x00"


class _Semantics:
    """Checks on a schema-valid product that JSON Schema cannot express."""

    def __init__(self, data: Mapping[str, Any], families: Mapping[str, type[RuleFamily]]) -> None:
        self.data = data
        self.families = families
        self.problems: list[Problem] = []
        self.phased: dict[tuple[str, str], list[str]] = {}
        self.phase_codes = [p["code"] for p in data["phases"]]
        #: Rule ids of each phase.
        self.rule_ids = {p["code"]: [rule_id(r) for r in p["rules"]] for p in data["phases"]}

    def flush_phased(self) -> None:
        for (where, template), found in self.phased.items():
            named = ", ".join(repr(p) for p in found)
            self.add(
                where, template.replace(_PHASES, f"of phase{'s' if len(found) > 1 else ''} {named}")
            )
        self.phased.clear()

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def check(self) -> list[Problem]:
        self.unique_codes()
        duplicates = bool(self.problems)
        self.phase_sequence()
        self.percentages()
        self.prices()
        if duplicates:
            return self.problems  # the effective rules below look phases and rules up by code
        self.base_rules()
        self.size_overrides()
        self.addon_effects()
        self.flush_phased()
        return self.problems

    # -- codes and references -------------------------------------------------------------------
    def unique_codes(self) -> None:
        data = self.data
        for key, what in (("phases", "phase code"), ("sizes", "size code"), ("addons", "add-on")):
            entries = data.get(key, ())
            codes = [e["code"] for e in entries]
            self.problems += _duplicates(
                codes, [f"/{key}/{i}/code" for i in range(len(codes))], what
            )
        for p, phase in enumerate(data["phases"]):
            rules = phase["rules"]
            # A rule without an id is named by its family: point at the rule itself.
            pointers = [
                f"/phases/{p}/rules/{i}" + ("/id" if "id" in r else "") for i, r in enumerate(rules)
            ]
            for problem in _duplicates([rule_id(r) for r in rules], pointers, "rule id"):
                hint = "" if problem.pointer.endswith("/id") else " (give it an id of its own)"
                self.add(problem.pointer, f"{problem.message} in phase {phase['code']!r}{hint}")

    def phase_sequence(self) -> None:
        kinds = [p["kind"] for p in self.data["phases"]]
        if "evaluation" not in kinds and "instant" not in kinds:
            self.add("/phases", "needs at least one phase of kind evaluation or instant")
        if "instant" in kinds:
            instant = [i for i, k in enumerate(kinds) if k == "instant"]
            for i in instant[1:]:
                self.add(f"/phases/{i}/kind", "an instant product has exactly one instant phase")
            for i, kind in enumerate(kinds):
                if kind == "evaluation":
                    self.add(
                        f"/phases/{i}/kind",
                        "an instant product has no evaluation phase (the instant phase is "
                        "funded from the start)",
                    )
        funded = [i for i, k in enumerate(kinds) if k == "funded"]
        for i in funded[1:]:
            self.add(f"/phases/{i}/kind", "a product has at most one funded phase")
        if funded and funded[0] != len(kinds) - 1:
            self.add(f"/phases/{funded[0]}/kind", "the funded phase must be the last phase")

    def percentages(self) -> None:
        data = self.data
        self.problems += payout_problems(data["payout"], "/payout")
        self.problems += scaling_problems(data.get("scaling"), "/scaling")
        retry = data.get("retry") or {}
        self.problems += _over_100([("/retry/discount_percent", retry.get("discount_percent"))])

    def prices(self) -> None:
        data = self.data
        sold_in = sorted({c for s in data["sizes"] for c in s["prices"]})
        priced = [
            (f"/addons/{i}/prices", a["prices"]) for i, a in enumerate(data.get("addons", ()))
        ]
        if data.get("reset"):
            priced.append(("/reset/prices", data["reset"]["prices"]))
        for where, prices in priced:
            missing = [c for c in sold_in if c not in prices]
            if missing:
                self.add(
                    where,
                    f"has no price in {', '.join(missing)}, which the sizes are sold in",
                )

    # -- effective rules --------------------------------------------------------------------------
    def rule_problems(
        self,
        phase: str,
        rule: RuleSpec,
        context: PhaseContext,
        where: str,
        patch: Any,
        because: str,
    ) -> None:
        """Check the effective rule ``rule`` of ``phase``: point at ``where`` (and into
        ``patch`` when the problem lies inside it)."""
        family = self.families[rule.family]
        errors = schema_problems(_family_validator(family), rule.params, self.families)
        for problem in errors:
            at = where + pointer(_deepest_in(patch, _tokens(problem.pointer)))
            inside = f" (params{problem.pointer})" if problem.pointer else ""
            self.in_phase(
                at, f"{because}, rule {rule.id!r} {_PHASES}: {problem.message}{inside}", phase
            )
        if errors:
            return
        try:
            family(rule.id, rule.params, context)
            family.describe(rule.params, context)
        except (ValueError, ArithmeticError, KeyError) as exc:
            self.in_phase(
                where, f"{because}, {family.code} refuses rule {rule.id!r} {_PHASES}: {exc}", phase
            )

    def in_phase(self, where: str, template: str, phase: str) -> None:
        """A problem found in ``phase``; the same one in several phases is reported once."""
        self.phased.setdefault((where, template), []).append(phase)

    def base_rules(self) -> None:
        for p, phase in enumerate(self.data["phases"]):
            context = phase_context(self.data, phase["code"])
            for r, rule in enumerate(phase["rules"]):
                family = self.families[rule["family"]]
                try:
                    family(rule_id(rule), rule["params"], context)
                    family.describe(rule["params"], context)
                except (ValueError, ArithmeticError, KeyError) as exc:
                    self.add(f"/phases/{p}/rules/{r}/params", f"refused by {family.code}: {exc}")

    def size_overrides(self) -> None:
        every_rule = {rid for ids in self.rule_ids.values() for rid in ids}
        for s, entry in enumerate(self.data["sizes"]):
            overrides = entry.get("overrides", {})
            for rid in overrides:
                if rid not in every_rule:
                    known = ", ".join(sorted(every_rule)) or "none"
                    self.add(
                        f"/sizes/{s}/overrides/{escape(rid)}",
                        f"no phase has a rule {rid!r} (rules: {known})",
                    )
            for code in self.phase_codes:
                context = phase_context(self.data, code)
                for rule in effective_phase(self.data, code, entry["code"]).rules:
                    if rule.id in overrides:
                        self.rule_problems(
                            code,
                            rule,
                            context,
                            f"/sizes/{s}/overrides/{escape(rule.id)}",
                            overrides[rule.id],
                            f"with size {entry['code']!r}",
                        )

    def addon_effects(self) -> None:
        """Each add-on alone, on top of the product as written."""
        for a, addon in enumerate(self.data.get("addons", ())):
            terms = {"payout": self.data["payout"], "scaling": self.data.get("scaling")}
            rules = {
                code: list(effective_phase(self.data, code).rules) for code in self.phase_codes
            }
            for e, effect in enumerate(addon["effects"]):
                where = f"/addons/{a}/effects/{e}"
                if effect["op"] not in ("set_rule", "remove_rule"):
                    terms = apply_terms_effect(terms, effect)
                    self.check_terms(addon["code"], effect, where, terms)
                elif self.rule_effect(effect, where, rules):
                    for code in self.phase_codes:
                        rules[code] = apply_rule_effect(rules[code], effect, code, addon["code"])
                    if effect["op"] == "set_rule":
                        self.check_set_rule(addon["code"], effect, where, rules)

    def rule_effect(
        self, effect: Mapping[str, Any], where: str, rules: Mapping[str, list[Any]]
    ) -> bool:
        target, named = effect["rule"], effect.get("phases")
        ok = True
        for k, code in enumerate(named or ()):
            if code not in rules:
                known = ", ".join(self.phase_codes)
                self.add(f"{where}/phases/{k}", f"no phase {code!r} (phases: {known})")
                ok = False
            elif not any(r.id == target for r in rules[code]):
                self.add(f"{where}/rule", f"phase {code!r} has no rule {target!r}")
                ok = False
        if named is None and not any(r.id == target for ids in rules.values() for r in ids):
            self.add(f"{where}/rule", f"no phase has a rule {target!r}")
            ok = False
        return ok

    def check_set_rule(
        self, addon: str, effect: Mapping[str, Any], where: str, rules: Mapping[str, list[Any]]
    ) -> None:
        for code, phase_rules in rules.items():
            if effect.get("phases") is not None and code not in effect["phases"]:
                continue
            for rule in phase_rules:
                if rule.id == effect["rule"]:
                    self.rule_problems(
                        code,
                        rule,
                        phase_context(self.data, code),
                        f"{where}/params",
                        effect["params"],
                        f"with add-on {addon!r}",
                    )

    def check_terms(
        self, addon: str, effect: Mapping[str, Any], where: str, terms: Mapping[str, Any]
    ) -> None:
        key = "payout" if effect["op"] == "set_payout" else "scaling"
        value = terms[key]
        if value is None:
            return
        schema = PAYOUT_SCHEMA if key == "payout" else SCALING_SCHEMA
        found = schema_problems(validator_for(schema), value, self.families)
        if not found:
            found = (payout_problems if key == "payout" else scaling_problems)(value, "")
        for problem in found:
            at = f"{where}/{key}" + pointer(_deepest_in(effect[key], _tokens(problem.pointer)))
            self.add(at, f"with add-on {addon!r}, the {key} is invalid: {problem.message}")


def _over_100(values: Iterable[tuple[str, Any]]) -> list[Problem]:
    return [
        Problem(where, f"{value!r} is more than 100%")
        for where, value in values
        if isinstance(value, str) and parse_decimal(value) > 100
    ]


def payout_problems(payout: Mapping[str, Any], where: str) -> list[Problem]:
    """Percentages above 100 and split tiers out of order in a schema-valid payout policy."""
    values = [
        (f"{where}/{key}", payout.get(key)) for key in ("split_percent", "profit_cap_percent")
    ]
    consistency = payout.get("consistency") or {}
    values.append(
        (f"{where}/consistency/best_day_max_percent", consistency.get("best_day_max_percent"))
    )
    problems = []
    last = 0
    for i, tier in enumerate(payout.get("split_tiers", ())):
        values.append((f"{where}/split_tiers/{i}/split_percent", tier.get("split_percent")))
        start = tier.get("from_payout")
        if isinstance(start, int) and start <= last:
            problems.append(
                Problem(
                    f"{where}/split_tiers/{i}/from_payout",
                    f"tiers must start at increasing payout numbers ({start} after {last})",
                )
            )
        if isinstance(start, int):
            last = max(last, start)
    return _over_100(values) + problems


def scaling_problems(scaling: Mapping[str, Any] | None, where: str) -> list[Problem]:
    """A scaling plan's split above 100%."""
    if not scaling:
        return []
    return _over_100([(f"{where}/split_percent", scaling.get("split_percent"))])
