"""``validate_product``: every problem of a product, each with the JSON pointer it is at.

Validation runs in two stages. The schema first (every error, made readable); then, only on a
product the schema accepts, the checks a schema cannot express: unique codes, references
between sizes, add-ons, phases and rules, the *effective* parameters of every rule after each
size's overrides and after each add-on (validated against the family's schema again, and
given to the family once so that it may refuse them), and the shape of the phase sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from propdesk.catalogue.problems import Problem, escape, pointer, schema_problems, sort_problems
from propdesk.catalogue.product import (
    RuleSpec,
    apply_rule_effect,
    apply_terms_effect,
    effective_phase,
    phase_context,
    rule_id,
)
from propdesk.catalogue.schema import (
    PAYOUT_SCHEMA,
    SCALING_SCHEMA,
    family_validator,
    product_validator,
    validator_for,
)
from propdesk.rules.family import PhaseContext, RuleFamily
from propdesk.rules.money import parse_decimal


def validate_product(data: Any, families: Mapping[str, type[RuleFamily]]) -> list[Problem]:
    """Every problem of product ``data``, sorted by pointer; empty when it is valid."""
    validator = product_validator(tuple(sorted(families.items())))
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
        errors = schema_problems(family_validator(family), rule.params, self.families)
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
