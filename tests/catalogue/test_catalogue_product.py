"""Reading a product: content hashes, and the rules a phase runs for a size and add-ons."""

from __future__ import annotations

import json
from datetime import time

import pytest
from catalogue_samples import FAMILIES

from propdesk.catalogue.product import (
    ProductError,
    RuleSpec,
    build_rules,
    content_hash,
    effective_phase,
    effective_terms,
    merge_patch,
    phase_context,
    phases,
    size,
)
from propdesk.rules.families.daily_loss import DailyLoss
from propdesk.rules.families.max_loss import MaxLoss


def test_the_content_hash_ignores_key_order_and_spacing_but_not_values(two_step):
    shuffled = json.loads(json.dumps(two_step, indent=4, sort_keys=True))
    reordered = dict(reversed(list(shuffled.items())))
    assert content_hash(reordered) == content_hash(two_step)
    assert content_hash(two_step).startswith("sha256:")
    assert len(content_hash(two_step)) == len("sha256:") + 64
    two_step["sizes"][0]["prices"]["USD"] = "345.01"
    assert content_hash(two_step) != content_hash(reordered)


def test_the_hash_is_of_canonical_utf8_json():
    # Known value: sha256 of '{"a":1,"name":"Zkouška"}' (non-ASCII kept as UTF-8).
    import hashlib

    expected = hashlib.sha256('{"a":1,"name":"Zkouška"}'.encode()).hexdigest()
    assert content_hash({"name": "Zkouška", "a": 1}) == f"sha256:{expected}"


def test_merge_patch_merges_objects_replaces_values_and_null_removes():
    base = {"amount": {"percent": "5", "of": "initial_balance"}, "lock": {"offset": "0"}}
    patched = merge_patch(base, {"amount": {"percent": "4"}, "lock": None, "trail": "none"})
    assert patched == {"amount": {"percent": "4", "of": "initial_balance"}, "trail": "none"}
    assert base["amount"]["percent"] == "5", "the original is untouched"


def test_phases_as_written(two_step):
    found = phases(two_step)
    assert [p.code for p in found] == ["phase1", "phase2", "funded"]
    funded = found[2]
    assert (funded.kind, funded.platform, funded.group, funded.leverage) == (
        "funded",
        "mt5",
        "real\\pd\\funded",
        30,
    )
    assert funded.rule("daily_loss").params["severity"] == "pause"


def test_a_size_overrides_then_add_ons_change_the_rules_in_order(two_step):
    phase = effective_phase(two_step, "phase1", "200k", ["eod-trailing"])
    assert phase.rule("daily_loss") == RuleSpec(
        "daily_loss", "daily_loss", {"amount": {"percent": "4", "of": "initial_balance"}}
    )
    assert phase.rule("max_loss").params == {
        "amount": {"percent": "10", "of": "initial_balance"},
        "trail": "eod_balance",
        "lock": {"offset": "0"},
    }
    # The add-on names phase1 and phase2 only: the funded phase keeps a static floor.
    funded = effective_phase(two_step, "funded", "200k", ["eod-trailing"])
    assert "trail" not in funded.rule("max_loss").params
    # Without size and add-ons: as written.
    assert effective_phase(two_step, "phase1").rule("daily_loss").params["amount"]["percent"] == "5"


def test_remove_rule_drops_the_rule_where_it_applies(two_step):
    two_step["addons"].append(
        {
            "code": "no-daily",
            "name": "No daily loss",
            "prices": {"USD": "10.00", "EUR": "9.00"},
            "effects": [{"op": "remove_rule", "rule": "daily_loss", "phases": ["funded"]}],
        }
    )
    assert [r.id for r in effective_phase(two_step, "funded", addons=["no-daily"]).rules] == [
        "max_loss"
    ]
    assert len(effective_phase(two_step, "phase1", addons=["no-daily"]).rules) == 2


def test_unknown_phase_size_and_add_on_are_named(two_step):
    with pytest.raises(ProductError, match=r"no phase 'phase3' \(phases: phase1, phase2, funded\)"):
        effective_phase(two_step, "phase3")
    with pytest.raises(ProductError, match=r"no size '25k' \(sizes: 50k, 100k, 200k\)"):
        effective_phase(two_step, "phase1", "25k")
    with pytest.raises(ProductError, match=r"no add-on 'x' \(add-ons: split-90, eod-trailing\)"):
        effective_phase(two_step, "phase1", None, ["x"])
    with pytest.raises(ProductError, match="no size"):
        size(two_step, "1m")


def test_phase_context_and_building_the_rules(two_step):
    context = phase_context(two_step, "phase2")
    assert (context.product, context.phase, context.currency) == ("two-step", "phase2", "USD")
    assert context.trading_day.at == time(0, 0)
    assert context.trading_day.tz.key == "Europe/Prague"
    rules = build_rules(effective_phase(two_step, "phase2", "100k"), FAMILIES, context)
    assert [type(r) for r in rules] == [DailyLoss, MaxLoss]
    assert rules[1].tolerance == 5
    with pytest.raises(ProductError, match="no rule family 'max_loss' is installed"):
        build_rules(effective_phase(two_step, "phase2"), {"daily_loss": DailyLoss}, context)


def test_effective_terms_apply_payout_and_scaling_effects(two_step):
    assert effective_terms(two_step)["payout"]["split_percent"] == "80"
    terms = effective_terms(two_step, ["split-90"])
    assert terms["payout"]["split_percent"] == "90"
    assert terms["payout"]["cadence"] == "biweekly", "the rest of the policy stays"
    assert terms["scaling"] == two_step["scaling"]
    assert terms["fee_refund"] == {"with_payout": 1}
    two_step["addons"][0]["effects"].append({"op": "set_scaling", "scaling": None})
    assert effective_terms(two_step, ["split-90"])["scaling"] is None
