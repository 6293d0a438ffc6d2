"""Reading a product: its phases, and the rules a phase runs for a size and a set of add-ons.

A size's ``overrides`` and an add-on's ``set_rule`` / ``set_payout`` / ``set_scaling`` are
merge patches (RFC 7386): objects merge key by key, any other value replaces, ``null`` removes
the key. A size is applied first, then the add-ons in the order given. The functions here
assume a product that passed ``schema.validate_product``; they raise ``ProductError`` only
for a phase, size, add-on or family the product (or the plugins) do not have.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from propdesk.rules.clock import LocalTime
from propdesk.rules.family import PhaseContext, RuleFamily

#: What ``effective_terms`` returns besides the phases: terms add-ons may change or not.
TERMS = ("payout", "scaling", "reset", "retry", "fee_refund")


class ProductError(ValueError):
    """A product was asked for something it does not have (a phase, size, add-on, family)."""


def canonical_json(data: Any) -> str:
    """The one text of a JSON value that its hash is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(data: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``data`` (key order and spacing do not count)."""
    digest = hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with ``patch`` applied (RFC 7386), as a new value; neither is changed."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class RuleSpec:
    """One rule of a phase: its id (unique in the phase), family code and parameters."""

    id: str
    family: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PhaseSpec:
    """A phase as an account runs it: where it trades and the rules it is held to."""

    code: str
    name: str
    kind: str
    platform: str
    group: str
    leverage: int
    rules: tuple[RuleSpec, ...] = ()

    def rule(self, rule_id: str) -> RuleSpec:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise ProductError(f"phase {self.code!r} has no rule {rule_id!r}")


def rule_id(rule: Mapping[str, Any]) -> str:
    """A rule's id: its ``id``, or its family's code when it has none."""
    return str(rule.get("id") or rule["family"])


def _phase_data(data: Mapping[str, Any], phase_code: str) -> Any:
    for phase in data.get("phases", ()):
        if phase.get("code") == phase_code:
            return phase
    known = ", ".join(p.get("code", "?") for p in data.get("phases", ())) or "none"
    raise ProductError(
        f"product {data.get('code')!r} has no phase {phase_code!r} (phases: {known})"
    )


def _phase_spec(phase: Mapping[str, Any], rules: Iterable[RuleSpec]) -> PhaseSpec:
    return PhaseSpec(
        code=phase["code"],
        name=phase["name"],
        kind=phase["kind"],
        platform=phase["platform"],
        group=phase["group"],
        leverage=int(phase["leverage"]),
        rules=tuple(rules),
    )


def _base_rules(phase: Mapping[str, Any]) -> list[RuleSpec]:
    return [
        RuleSpec(rule_id(r), r["family"], copy.deepcopy(dict(r.get("params", {}))))
        for r in phase.get("rules", ())
    ]


def phases(data: Mapping[str, Any]) -> list[PhaseSpec]:
    """Every phase in order, with its rules as written (no size, no add-ons)."""
    return [_phase_spec(p, _base_rules(p)) for p in data.get("phases", ())]


def size(data: Mapping[str, Any], code: str) -> dict[str, Any]:
    """The size ``code`` (balance, prices, overrides) as written."""
    for entry in data.get("sizes", ()):
        if entry.get("code") == code:
            return dict(entry)
    known = ", ".join(s.get("code", "?") for s in data.get("sizes", ())) or "none"
    raise ProductError(f"product {data.get('code')!r} has no size {code!r} (sizes: {known})")


def addon(data: Mapping[str, Any], code: str) -> dict[str, Any]:
    """The add-on ``code`` as written."""
    for entry in data.get("addons", ()):
        if entry.get("code") == code:
            return dict(entry)
    known = ", ".join(a.get("code", "?") for a in data.get("addons", ())) or "none"
    raise ProductError(f"product {data.get('code')!r} has no add-on {code!r} (add-ons: {known})")


def _targets(effect: Mapping[str, Any], phase_code: str) -> bool:
    named = effect.get("phases")
    return named is None or phase_code in named


def apply_rule_effect(
    rules: list[RuleSpec], effect: Mapping[str, Any], phase_code: str, addon_code: str
) -> list[RuleSpec]:
    """``rules`` of phase ``phase_code`` after one ``set_rule``/``remove_rule`` effect."""
    op = effect.get("op")
    if op not in ("set_rule", "remove_rule") or not _targets(effect, phase_code):
        return rules
    target = effect["rule"]
    if not any(r.id == target for r in rules):
        if effect.get("phases") is None:
            return rules  # "every phase having it": this phase does not
        raise ProductError(
            f"add-on {addon_code!r}: phase {phase_code!r} has no rule {target!r} to change"
        )
    if op == "remove_rule":
        return [r for r in rules if r.id != target]
    return [
        RuleSpec(r.id, r.family, merge_patch(r.params, effect["params"])) if r.id == target else r
        for r in rules
    ]


def effective_phase(
    data: Mapping[str, Any],
    phase_code: str,
    size_code: str | None = None,
    addons: Sequence[str] = (),
) -> PhaseSpec:
    """Phase ``phase_code`` with the overrides of size ``size_code`` and then the effects of
    ``addons`` (in that order) applied to its rules."""
    phase = _phase_data(data, phase_code)
    rules = _base_rules(phase)
    if size_code is not None:
        overrides = size(data, size_code).get("overrides", {})
        rules = [
            RuleSpec(r.id, r.family, merge_patch(r.params, overrides[r.id]))
            if r.id in overrides
            else r
            for r in rules
        ]
    for code in addons:
        for effect in addon(data, code).get("effects", ()):
            rules = apply_rule_effect(rules, effect, phase_code, code)
    return _phase_spec(phase, rules)


def phase_context(data: Mapping[str, Any], phase_code: str) -> PhaseContext:
    """What every rule of the phase knows besides its parameters."""
    _phase_data(data, phase_code)
    return PhaseContext(
        product=str(data["code"]),
        phase=phase_code,
        currency=str(data["currency"]),
        trading_day=LocalTime.parse(data["trading_day"]),
    )


def build_rules(
    phase: PhaseSpec, families: Mapping[str, type[RuleFamily]], context: PhaseContext
) -> list[RuleFamily]:
    """One family instance per rule of ``phase``, in the phase's order."""
    built = []
    for rule in phase.rules:
        family = families.get(rule.family)
        if family is None:
            known = ", ".join(sorted(families)) or "none"
            raise ProductError(
                f"phase {phase.code!r} rule {rule.id!r}: no rule family {rule.family!r} "
                f"is installed (families: {known})"
            )
        built.append(family(rule.id, rule.params, context))
    return built


def apply_terms_effect(terms: dict[str, Any], effect: Mapping[str, Any]) -> dict[str, Any]:
    """``terms`` after one ``set_payout`` / ``set_scaling`` effect (others leave them be)."""
    op = effect.get("op")
    if op == "set_payout":
        return {**terms, "payout": merge_patch(terms.get("payout"), effect["payout"])}
    if op == "set_scaling":
        patch = effect["scaling"]
        scaling = None if patch is None else merge_patch(terms.get("scaling"), patch)
        return {**terms, "scaling": scaling}
    return terms


def effective_terms(data: Mapping[str, Any], addons: Sequence[str] = ()) -> dict[str, Any]:
    """Payout policy, scaling plan, reset, retry and fee refund after ``addons``' effects.

    Absent terms are ``None``."""
    terms: dict[str, Any] = {key: copy.deepcopy(data.get(key)) for key in TERMS}
    for code in addons:
        for effect in addon(data, code).get("effects", ()):
            terms = apply_terms_effect(terms, effect)
    return terms
