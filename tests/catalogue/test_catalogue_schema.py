"""Validating products: every problem, where it is (JSON pointer) and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from catalogue_samples import FAMILIES
from jsonschema import Draft202012Validator

from propdesk.catalogue.problems import Problem
from propdesk.catalogue.schema import product_schema
from propdesk.catalogue.validation import validate_product
from propdesk.rules.family import PhaseContext, RuleFamily


def messages(data: Any, families: Mapping[str, type[RuleFamily]] = FAMILIES) -> dict[str, str]:
    return {p.pointer: p.message for p in validate_product(data, families)}


def test_the_sample_product_is_valid(two_step):
    assert validate_product(two_step, FAMILIES) == []


def test_the_composed_schema_is_a_valid_2020_12_schema_naming_the_families():
    schema = product_schema(FAMILIES)
    Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["rule"]["properties"]["family"] == {"enum": ["daily_loss", "max_loss"]}
    assert "family_daily_loss" in schema["$defs"]


def test_several_mistakes_are_all_reported_with_their_pointers_in_order(two_step):
    two_step["currency"] = "usd"
    two_step["sizes"][0]["balance"] = 50000
    two_step["sizes"][1]["colour"] = "red"
    del two_step["payout"]["cadence"]
    phase1 = two_step["phases"][0]
    phase1["rules"][1]["params"]["amount"]["percent"] = "ten"
    phase1["rules"][0]["params"]["reset"] = {"time": "24:00", "timezone": "Mars/Olympus"}
    two_step["phases"][1]["rules"][0]["family"] = "coin_flip"
    two_step["phases"][2]["leverage"] = "30"

    problems = validate_product(two_step, FAMILIES)

    assert [p.pointer for p in problems] == [
        "/currency",
        "/payout/cadence",
        "/phases/0/rules/0/params/reset/time",
        "/phases/0/rules/0/params/reset/timezone",
        "/phases/0/rules/1/params/amount/percent",
        "/phases/1/rules/0/family",
        "/phases/2/leverage",
        "/sizes/0/balance",
        "/sizes/1/colour",
    ]
    found = {p.pointer: p.message for p in problems}
    assert "three-letter ISO 4217" in found["/currency"]
    assert found["/payout/cadence"] == "is required"
    assert "HH:MM" in found["/phases/0/rules/0/params/reset/time"]
    assert (
        "'Mars/Olympus' is not an IANA timezone" in found["/phases/0/rules/0/params/reset/timezone"]
    )
    assert "'ten' must be a percentage" in found["/phases/0/rules/1/params/amount/percent"]
    assert found["/phases/1/rules/0/family"] == (
        "unknown rule family 'coin_flip' (installed: daily_loss, max_loss)"
    )
    assert found["/phases/2/leverage"] == "must be an integer, not a string"
    assert "JSON number: write it as a decimal string" in found["/sizes/0/balance"]
    assert found["/sizes/1/colour"] == "is not a known field"


def test_array_indexes_sort_as_numbers(two_step):
    phase = two_step["phases"][0]
    two_step["phases"] = [{**phase, "code": f"p{i}", "leverage": 0} for i in range(12)]
    two_step["phases"][-1]["kind"] = "funded"
    pointers = [p.pointer for p in validate_product(two_step, FAMILIES)]
    assert pointers == [f"/phases/{i}/leverage" for i in range(12)]


def test_an_amount_that_is_neither_form_says_which_forms_exist(two_step):
    two_step["phases"][0]["rules"][0]["params"]["amount"] = {"percent": "5", "fixed": "500"}
    assert messages(two_step) == {
        "/phases/0/rules/0/params/amount": "must be {percent, of} or {fixed}"
    }


def test_a_nullable_section_reports_its_missing_fields(two_step):
    two_step["scaling"] = {"cycle_months": 4}
    assert messages(two_step) == {
        "/scaling/balance_increase_percent": "is required",
        "/scaling/min_profit_percent": "is required",
    }


def test_semantic_problems_of_different_kinds_come_together(two_step):
    two_step["addons"][0]["prices"] = {"USD": "49.00"}
    two_step["sizes"][0]["overrides"] = {"max_loss": {"trail": "sideways"}}
    two_step["payout"]["split_percent"] = "101"
    assert list(messages(two_step)) == [
        "/addons/0/prices",
        "/payout/split_percent",
        "/sizes/0/overrides/max_loss/trail",
    ]


def test_codes_must_be_unique(two_step):
    two_step["phases"][1]["code"] = "phase1"
    two_step["sizes"][2]["code"] = "50k"
    two_step["phases"][0]["rules"].append(
        {"family": "daily_loss", "params": {"amount": {"fixed": "1000"}}}
    )
    found = messages(two_step)
    assert found["/phases/1/code"] == "duplicate phase code 'phase1' (also at /phases/0/code)"
    assert found["/sizes/2/code"] == "duplicate size code '50k' (also at /sizes/0/code)"
    assert found["/phases/0/rules/2"].startswith("duplicate rule id 'daily_loss'")
    assert "give it an id of its own" in found["/phases/0/rules/2"]


def test_two_rules_of_one_family_with_their_own_ids_are_fine(two_step):
    two_step["phases"][0]["rules"].append(
        {"id": "daily_loss_cash", "family": "daily_loss", "params": {"amount": {"fixed": "900"}}}
    )
    assert validate_product(two_step, FAMILIES) == []


def test_a_size_override_must_name_a_rule_and_keep_its_params_valid(two_step):
    two_step["sizes"][1]["overrides"] = {
        "max_loss": {"tolerance": "a little"},
        "profit_target": {"amount": {"percent": "8"}},
    }
    found = messages(two_step)
    assert found["/sizes/1/overrides/profit_target"] == (
        "no phase has a rule 'profit_target' (rules: daily_loss, max_loss)"
    )
    message = found["/sizes/1/overrides/max_loss/tolerance"]
    assert message.startswith("with size '100k', rule 'max_loss' of phases 'phase1', 'phase2'")
    assert "'a little' must be a non-negative decimal string" in message


def test_an_override_that_breaks_the_amount_form_points_at_the_override(two_step):
    two_step["sizes"][2]["overrides"] = {"daily_loss": {"amount": {"fixed": "3000"}}}
    found = messages(two_step)
    assert list(found) == ["/sizes/2/overrides/daily_loss/amount"]
    # Merge patch: null removes the keys of the other form.
    two_step["sizes"][2]["overrides"] = {
        "daily_loss": {"amount": {"fixed": "3000", "percent": None, "of": None}}
    }
    assert validate_product(two_step, FAMILIES) == []


def test_add_on_effects_must_name_existing_phases_and_rules_and_stay_valid(two_step):
    effects = two_step["addons"][1]["effects"]
    effects.append({"op": "set_rule", "rule": "max_loss", "phases": ["phase9"], "params": {}})
    effects.append({"op": "remove_rule", "rule": "consistency"})
    effects.append({"op": "set_rule", "rule": "daily_loss", "params": {"measure": "vibes"}})
    two_step["addons"][0]["effects"].append(
        {"op": "set_payout", "payout": {"split_percent": "120"}}
    )
    found = messages(two_step)
    assert found["/addons/1/effects/1/phases/0"] == (
        "no phase 'phase9' (phases: phase1, phase2, funded)"
    )
    assert found["/addons/1/effects/2/rule"] == "no phase has a rule 'consistency'"
    assert found["/addons/1/effects/3/params/measure"] == (
        "with add-on 'eod-trailing', rule 'daily_loss' of phases 'phase1', 'phase2', 'funded': "
        "must be one of: equity, balance (params/measure)"
    )
    assert found["/addons/0/effects/1/payout/split_percent"] == (
        "with add-on 'split-90', the payout is invalid: '120' is more than 100%"
    )


def test_phase_sequence(two_step):
    funded_first = [two_step["phases"][2], *two_step["phases"][:2]]
    assert messages({**two_step, "phases": funded_first}) == {
        "/phases/0/kind": "the funded phase must be the last phase"
    }
    only_funded = [two_step["phases"][2]]
    found = messages({**two_step, "phases": only_funded, "addons": []})
    assert found == {"/phases": "needs at least one phase of kind evaluation or instant"}
    instant = [{**p, "kind": "instant"} for p in two_step["phases"][:2]]
    assert messages({**two_step, "phases": instant}) == {
        "/phases/1/kind": "an instant product has exactly one instant phase"
    }


def test_every_currency_the_sizes_sell_in_needs_an_add_on_and_reset_price(two_step):
    two_step["addons"][0]["prices"] = {"USD": "49.00"}
    two_step["reset"] = {"prices": {"USD": "99.00"}}
    assert messages(two_step) == {
        "/addons/0/prices": "has no price in EUR, which the sizes are sold in",
        "/reset/prices": "has no price in EUR, which the sizes are sold in",
    }


class Picky(RuleFamily):
    """Accepts its schema but refuses a limit above 50 when it parses its params."""

    code = "picky"
    display_name = "Picky"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"limit": {"type": "integer"}},
    }

    def __init__(self, rule_id: str, params: Mapping[str, Any], context: PhaseContext) -> None:
        super().__init__(rule_id, params, context)
        if params.get("limit", 0) > 50:
            raise ValueError(f"limit {params['limit']} is above 50")


def test_a_family_that_refuses_its_params_is_reported_at_the_rule(two_step):
    families = {**FAMILIES, "picky": Picky}
    two_step["phases"][0]["rules"].append({"family": "picky", "params": {"limit": 80}})
    two_step["sizes"][0]["overrides"] = {"picky": {"limit": 60}}
    found = messages(two_step, families)
    assert found == {
        "/phases/0/rules/2/params": "refused by picky: limit 80 is above 50",
        "/sizes/0/overrides/picky": (
            "with size '50k', picky refuses rule 'picky' of phase 'phase1': limit 60 is above 50"
        ),
    }


def test_not_an_object_at_all():
    assert validate_product([], FAMILIES) == [Problem("", "must be an object, not an array")]
