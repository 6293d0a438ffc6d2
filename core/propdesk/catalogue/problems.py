"""Problems of a product, each at a JSON pointer, and jsonschema's errors reworded as such.

jsonschema reports what failed in the schema's terms (branches, keywords); an author needs where
in the product and what to write instead, so every error is turned into readable problems here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError

from propdesk.catalogue.schema import (
    CODE_PATTERN,
    CURRENCY_PATTERN,
    POSITIVE_DECIMAL,
    PRICE_PATTERN,
    PRODUCT_CODE_PATTERN,
)
from propdesk.rules.family import RuleFamily
from propdesk.rules.money import NON_NEGATIVE_DECIMAL, PERCENT


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


_PATTERNS = {
    PRODUCT_CODE_PATTERN: "must be 2-40 lowercase letters, digits or hyphens, starting with a "
    "letter or digit, e.g. two-step",
    CODE_PATTERN: "must be 1-40 lowercase letters, digits, hyphens or underscores, starting "
    "with a letter or digit",
    PRICE_PATTERN: 'must be a price: a decimal string with at most 2 decimals, e.g. "540.00"',
    CURRENCY_PATTERN: "must be a three-letter ISO 4217 currency code in capitals, e.g. USD",
    PERCENT["pattern"]: 'must be a percentage written as a decimal string, e.g. "5" or "2.5"',
    NON_NEGATIVE_DECIMAL["pattern"]: 'must be a non-negative decimal string, e.g. "100000"',
    POSITIVE_DECIMAL["pattern"]: 'must be a positive decimal string, e.g. "100000"',
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
