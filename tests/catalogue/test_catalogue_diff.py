"""Comparing two versions of a product by JSON pointer."""

from __future__ import annotations

import copy

from propdesk.catalogue.diff import diff


def test_no_differences(two_step):
    assert diff(two_step, copy.deepcopy(two_step)) == []


def test_changed_added_and_removed_values_by_pointer(two_step):
    after = copy.deepcopy(two_step)
    after["phases"][0]["rules"][0]["params"]["amount"]["percent"] = "4"
    after["payout"]["profit_cap_percent"] = "10"
    del after["retry"]
    after["sizes"].append({"code": "25k", "balance": "25000", "prices": {"USD": "155.00"}})
    after["addons"][0]["name"] = "90/10 split"

    assert diff(two_step, after) == [
        {
            "pointer": "/sizes/3",
            "change": "added",
            "before": None,
            "after": {"code": "25k", "balance": "25000", "prices": {"USD": "155.00"}},
        },
        {
            "pointer": "/phases/0/rules/0/params/amount/percent",
            "change": "changed",
            "before": "5",
            "after": "4",
        },
        {
            "pointer": "/addons/0/name",
            "change": "changed",
            "before": "90% profit split",
            "after": "90/10 split",
        },
        {"pointer": "/payout/profit_cap_percent", "change": "added", "before": None, "after": "10"},
        {
            "pointer": "/retry",
            "change": "removed",
            "before": {"discount_percent": "10", "within_days": 30},
            "after": None,
        },
    ]


def test_a_value_whose_type_changes_is_one_change_and_keys_are_escaped():
    before = {"scaling": {"cycle_months": 4}, "a/b": {"~x": 1}}
    after = {"scaling": None, "a/b": {"~x": 2}}
    assert diff(before, after) == [
        {"pointer": "/scaling", "change": "changed", "before": {"cycle_months": 4}, "after": None},
        {"pointer": "/a~1b/~0x", "change": "changed", "before": 1, "after": 2},
    ]


def test_a_shorter_array_reports_the_removed_items():
    assert diff({"x": [1, 2, 3]}, {"x": [1]}) == [
        {"pointer": "/x/1", "change": "removed", "before": 2, "after": None},
        {"pointer": "/x/2", "change": "removed", "before": 3, "after": None},
    ]
