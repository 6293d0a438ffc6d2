"""The catalogue editor's form, generated from the product schema, in plain values: the desks'
presets go through the form and back unchanged; edits land where their inputs are; problems
show at their inputs (or the nearest part shown); the desk chart's numbers stay decimal."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.problems import Problem
from propdesk.catalogue.schema import product_schema
from propdesk.catalogue.validation import validate_product
from propdesk.plugins.manager import PluginHost
from propdesk.settings import Settings
from propdesk.web.backoffice.desk import purchases_chart
from propdesk.web.backoffice.schemaform import Node, SchemaForm, problems_by_pointer

PRESETS = sorted(Path(__file__).parents[2].glob("tenants/*/challenges/*.json"))
FAMILIES = rule_families(PluginHost.load(Settings(load_entrypoints=False)))
FORM = SchemaForm(product_schema(FAMILIES), skip=("code", "addons"))


def posted(node: Node, form: dict[str, str] | None = None) -> dict[str, str]:
    """What a browser posts for the form as shown (no box ticked, nothing added)."""
    form = {} if form is None else form
    if node.scalar:
        form[node.pointer] = node.value
    if node.kind == "map":
        form[f"{node.pointer}#key"] = form[f"{node.pointer}#value"] = ""
    for child in node.children:
        posted(child, form)
    return form


def by_pointer(root: Node) -> dict[str, Node]:
    return {node.pointer: node for node in root.walk()}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_every_preset_goes_through_the_form_unchanged(path: Path) -> None:
    content = json.loads(path.read_text())
    root = FORM.build(content)
    assert FORM.read(root, content, posted(root)) == content


def test_edits_land_where_their_inputs_are() -> None:
    content: dict[str, Any] = json.loads(PRESETS[0].read_text())
    root = FORM.build(content)
    inputs = by_pointer(root)
    assert inputs["/sizes/0/prices"].kind == "map"
    assert (
        inputs["/phases/0/kind"].kind == "select" and "funded" in inputs["/phases/0/kind"].options
    )
    assert inputs["/payout/kyc_required"].kind == "boolean"
    assert inputs["/phases/0/leverage"].kind == "integer"
    assert "/addons" not in inputs and "/code" not in inputs  # left to the JSON
    rules = len(content["phases"][0]["rules"])
    form = posted(root)
    form.update(
        {
            "/sizes/0/prices#key": "CHF",
            "/sizes/0/prices#value": "99.00",
            "/phases/0/leverage": "lots",
            f"/phases/0/rules/{rules}/family": "per_trade_loss",
            "/sizes/1#remove": "1",
            "/payout/kyc_required": "",
        }
    )
    edited = FORM.read(root, content, form)
    assert edited["sizes"][0]["prices"]["CHF"] == "99.00"
    assert edited["sizes"][1] == content["sizes"][2]  # the second size was removed
    assert edited["phases"][0]["leverage"] == "lots"  # kept as typed: validation names it
    assert edited["phases"][0]["rules"][rules] == {"family": "per_trade_loss", "params": {}}
    assert "kyc_required" not in edited["payout"]  # left empty: left out
    assert content["sizes"][0]["prices"].get("CHF") is None  # the base is not changed

    problems = validate_product(edited, FAMILIES)
    assert Problem("/phases/0/leverage", "must be an integer, not a string") in problems
    shown = by_pointer(FORM.build(edited, problems_by_pointer(problems)))
    assert shown["/phases/0/leverage"].errors == [
        ("/phases/0/leverage", "must be an integer, not a string")
    ]
    # The new rule now has the fields of its family's parameters.
    assert f"/phases/0/rules/{rules}/params/amount/percent" in shown
    assert shown[f"/phases/0/rules/{rules}"].wrong


def test_a_problem_where_nothing_is_shown_goes_to_the_nearest_part() -> None:
    content = json.loads(PRESETS[0].read_text())
    problems = {"/addons/0/effects/0/op": ["must be one of: set_rule"], "/sizes/0/x": ["unknown"]}
    shown = by_pointer(FORM.build(content, problems))
    assert shown[""].errors == [("/addons/0/effects/0/op", "must be one of: set_rule")]
    assert shown["/sizes/0"].errors == [("/sizes/0/x", "unknown")]


def test_a_blank_optional_part_is_left_out_and_a_cleared_nullable_one_is_null() -> None:
    content = {
        "code": "x",
        "scaling": {"cycle_months": 4},
        "retry": None,
        "kyc": {"before_funded": True},
    }
    root = FORM.build(content)
    form = {
        **posted(root),
        "/scaling/cycle_months": "",
        "/kyc/before_funded": "",
        "/reset/prices#key": "",
    }
    read = FORM.read(root, content, form)
    assert read["scaling"] is None and read["retry"] is None
    assert "kyc" not in read and "reset" not in read and "sizes" not in read


def test_the_purchases_chart_counts_every_day_in_decimal_strings() -> None:
    rows = [
        (date(2026, 11, 20), "USD", 2, Decimal("1080.00")),
        (date(2026, 11, 22), "EUR", 1, Decimal("499.00")),
    ]
    chart = purchases_chart(rows, date(2026, 11, 22), days=3)
    assert chart["labels"] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert chart["stacked"] is True
    assert chart["datasets"] == [
        {"label": "EUR", "data": ["0", "0", "499.00"]},
        {"label": "USD", "data": ["1080.00", "0", "0"]},
    ]
