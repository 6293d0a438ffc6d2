"""The preset challenges in ``tenants/*/challenges/``: valid, and they behave as they say.

Each preset is validated against the rule families the plugins register, then a short
scripted history is replayed through ``propdesk replay`` against its first phase.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replaykit import invoke, objective, verdict

from propdesk.catalogue.product import effective_phase, effective_terms
from propdesk.catalogue.validation import validate_product
from propdesk.engine.replay import rule_families
from propdesk.plugins.manager import PluginHost
from propdesk.rules.family import RuleFamily
from propdesk.settings import get_settings

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
PRESETS = sorted(TENANTS.glob("*/challenges/*.json"))


@pytest.fixture(scope="module")
def families() -> dict[str, type[RuleFamily]]:
    return rule_families(PluginHost.load(get_settings()))


def load(tenant: str, code: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (TENANTS / tenant / "challenges" / f"{code}.json").read_text(encoding="utf-8")
    )
    return data


class History:
    """A scripted trading history, written as the JSON lines ``propdesk replay`` reads."""

    def __init__(self, opened: str, balance: str) -> None:
        self.rows: list[dict[str, Any]] = [
            {"type": "account_opened", "time": opened, "balance": balance}
        ]
        self.deals = 0

    def deal(self, time: str, position: str, entry: str, volume: str, profit: str = "0") -> None:
        self.deals += 1
        self.rows.append(
            {
                "type": "deal",
                "time": time,
                "id": str(self.deals),
                "position": position,
                "symbol": "EURUSD",
                "side": "buy" if entry == "in" else "sell",
                "entry": entry,
                "volume": volume,
                "price": "1.08000",
                "profit": profit,
            }
        )

    def trade(self, opened: str, closed: str, profit: str, volume: str = "1") -> None:
        position = f"p{self.deals}"
        self.deal(opened, position, "in", volume)
        self.deal(closed, position, "out", volume, profit)

    def snapshot(self, time: str, balance: str, equity: str) -> None:
        self.rows.append({"type": "snapshot", "time": time, "balance": balance, "equity": equity})

    def lines(self) -> Iterator[str]:
        return (json.dumps(row) for row in self.rows)


def replay(
    tmp_path: Path,
    tenant: str,
    code: str,
    phase: str,
    history: History,
    *,
    first: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    events = tmp_path / f"{code}.{phase}.{first}.jsonl"
    lines = list(history.lines())[:first]
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    product = TENANTS / tenant / "challenges" / f"{code}.json"
    return verdict(product, events, phase, **options)


# -- validity --------------------------------------------------------------------------------


def test_there_are_presets_for_both_demo_desks() -> None:
    names = {f"{p.parent.parent.name}/{p.stem}" for p in PRESETS}
    assert names >= {
        "aurora_fx/two-step",
        "aurora_fx/one-step-eod",
        "aurora_fx/instant-funding",
        "summit_futures/combine",
    }


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_every_preset_is_valid_with_the_registered_families(
    path: Path, families: dict[str, type[RuleFamily]]
) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert validate_product(data, families) == []
    assert data["code"] == path.stem  # one file per product, named by its code
    for size in data["sizes"]:
        assert len(size["prices"]) >= 2, f"{size['code']} is sold in one currency only"


def test_catalog_validate_accepts_every_preset() -> None:
    result = invoke(["catalog", "validate", *map(str, PRESETS)])
    assert result.exit_code == 0, result.stderr or result.output
    assert result.stdout.count(": valid ") == len(PRESETS)


# -- aurora_fx/two-step ------------------------------------------------------------------------


def test_two_step_passes_phase1_after_four_trading_days_and_10_percent_flat(
    tmp_path: Path,
) -> None:
    history = History("2026-03-02T08:00:00+01:00", "100000")
    history.trade("2026-03-02T09:00:00+01:00", "2026-03-02T15:00:00+01:00", "4000")
    history.trade("2026-03-03T09:00:00+01:00", "2026-03-03T15:00:00+01:00", "6000")
    history.trade("2026-03-04T09:00:00+01:00", "2026-03-04T09:30:00+01:00", "100")
    history.trade("2026-03-05T09:00:00+01:00", "2026-03-05T09:30:00+01:00", "50")
    # +10% after two days: the target is reached, the days are not.
    two_days = replay(tmp_path, "aurora_fx", "two-step", "phase1", history, first=5)
    assert two_days["status"] == "active"
    assert objective(two_days, "profit_target")["status"] == "met"
    assert objective(two_days, "min_trading_days")["status"] == "not_met"
    # The fourth day's position is open: a flat account is required to pass.
    open_position = replay(tmp_path, "aurora_fx", "two-step", "phase1", history, first=8)
    assert open_position["status"] == "active"
    assert objective(open_position, "min_trading_days")["status"] == "met"
    result = replay(tmp_path, "aurora_fx", "two-step", "phase1", history, size="100k")
    assert (result["status"], result["decided_at"]) == ("passed", "2026-03-05T08:30:00Z")
    assert objective(result, "daily_loss")["floor"] == "105100.00"  # 110,100 - 5,000


def test_two_step_fails_on_the_daily_loss_with_a_position_held_over_midnight(
    tmp_path: Path,
) -> None:
    history = History("2026-03-02T08:00:00+01:00", "100000")
    history.trade("2026-03-02T09:00:00+01:00", "2026-03-02T12:00:00+01:00", "3000")
    history.deal("2026-03-02T14:00:00+01:00", "p9", "in", "10")
    history.snapshot("2026-03-02T23:00:00+01:00", "103000", "97500")
    result = replay(
        tmp_path, "aurora_fx", "two-step", "phase1", history, until="2026-03-03T00:00:00+01:00"
    )
    # Monday's floor was 95,000; at midnight it is 103,000 - 5,000 = 98,000.
    assert (result["status"], result["rule"], result["decided_at"]) == (
        "failed",
        "daily_loss",
        "2026-03-02T23:00:00Z",
    )


def test_two_step_add_ons_and_terms() -> None:
    data = load("aurora_fx", "two-step")
    phase1 = effective_phase(data, "phase1", "100k", ["no-time-limit"])
    assert "time_limit" not in {rule.id for rule in phase1.rules}
    assert "time_limit" in {rule.id for rule in effective_phase(data, "phase1", "100k").rules}
    funded = effective_phase(data, "funded", "100k", ["swing"])
    assert "news_window" not in {rule.id for rule in funded.rules}
    assert effective_terms(data)["payout"]["split_percent"] == "80"
    terms = effective_terms(data, ["split-90"])
    assert terms["payout"]["split_percent"] == "90"
    assert terms["fee_refund"] == {"with_payout": 1}
    assert terms["scaling"]["balance_increase_percent"] == "25"
    assert terms["scaling"]["cycle_months"] == 4


# -- aurora_fx/one-step-eod ---------------------------------------------------------------------


def test_one_step_keeps_trading_until_the_best_day_is_half_the_profit(tmp_path: Path) -> None:
    history = History("2026-03-02T08:00:00+01:00", "100000")
    history.trade("2026-03-02T09:00:00+01:00", "2026-03-02T15:00:00+01:00", "6000")
    history.trade("2026-03-03T09:00:00+01:00", "2026-03-03T15:00:00+01:00", "4000")
    history.trade("2026-03-04T09:00:00+01:00", "2026-03-04T15:00:00+01:00", "2000")
    day1 = replay(
        tmp_path,
        "aurora_fx",
        "one-step-eod",
        "challenge",
        history,
        first=3,
        until="2026-03-03T00:00:00+01:00",
    )
    assert objective(day1, "max_loss")["floor"] == "96000.00"  # 106,000 at midnight - 10,000
    target_met = replay(tmp_path, "aurora_fx", "one-step-eod", "challenge", history, first=5)
    assert target_met["status"] == "active"
    best_day = objective(target_met, "best_day")
    assert best_day["text"] == (
        "best day 6,000.00 is 60% of 10,000.00 total profit; at most 50%: keep trading until "
        "total profit reaches 12,000.00"
    )
    result = replay(tmp_path, "aurora_fx", "one-step-eod", "challenge", history)
    assert (result["status"], result["decided_at"]) == ("passed", "2026-03-04T14:00:00Z")


# -- aurora_fx/instant-funding ------------------------------------------------------------------


def test_instant_funding_pauses_for_the_day_then_fails_below_the_locked_floor(
    tmp_path: Path,
) -> None:
    history = History("2026-03-02T08:00:00+01:00", "50000")
    history.deal("2026-03-02T09:00:00+01:00", "p1", "in", "5")
    history.snapshot("2026-03-02T10:00:00+01:00", "50000", "48499")
    history.deal("2026-03-02T10:01:00+01:00", "p1", "out", "5", "-1501")
    history.trade("2026-03-03T09:00:00+01:00", "2026-03-03T15:00:00+01:00", "4601", volume="5")
    history.deal("2026-03-04T09:00:00+01:00", "p9", "in", "5")
    history.snapshot("2026-03-04T10:00:00+01:00", "53100", "49999.99")
    paused = replay(tmp_path, "aurora_fx", "instant-funding", "instant", history, first=4)
    assert paused["status"] == "paused"
    assert paused["history"][-1]["rule"] == "daily_loss"
    # A new day at midnight Prague: trading resumes from the 48,499 balance.
    resumed = replay(
        tmp_path,
        "aurora_fx",
        "instant-funding",
        "instant",
        history,
        first=4,
        until="2026-03-03T00:00:00+01:00",
    )
    assert resumed["status"] == "active"
    assert objective(resumed, "daily_loss")["floor"] == "46999.00"
    # 53,100 - 3,000 would be 50,100: the floor stops at the initial balance.
    at_peak = replay(tmp_path, "aurora_fx", "instant-funding", "instant", history, first=6)
    found = objective(at_peak, "max_loss")
    assert (found["floor"], found["locked"]) == ("50000.00", True)
    assert at_peak["status"] == "active"  # no target: an instant account never "passes"
    result = replay(tmp_path, "aurora_fx", "instant-funding", "instant", history)
    assert (result["status"], result["rule"]) == ("failed", "max_loss")
    assert "locked at 50,000.00" in result["explanation"]


def test_instant_funding_payout_consistency_is_the_same_in_the_rule_and_the_policy() -> None:
    data = load("aurora_fx", "instant-funding")
    rule = effective_phase(data, "instant").rule("best_day")
    assert rule.params == {"limit": "20", "checked_at": "payout"}
    assert data["payout"]["consistency"]["best_day_max_percent"] == rule.params["limit"]
    assert data["payout"]["profit_cap_percent"] == "5"
    assert not any(r.family == "profit_target" for r in effective_phase(data, "instant").rules)


# -- aurora_fx/sprint (the demo's product) -----------------------------------------------------


def test_sprint_passes_the_moment_equity_is_one_percent_up(tmp_path: Path) -> None:
    history = History("2026-03-02T08:00:00+01:00", "10000")
    history.deal("2026-03-02T09:00:00+01:00", "p1", "in", "2")
    history.snapshot("2026-03-02T09:01:00+01:00", "10000", "10099.99")
    history.snapshot("2026-03-02T09:02:00+01:00", "10000", "10100")
    almost = replay(tmp_path, "aurora_fx", "sprint", "sprint", history, first=3)
    assert almost["status"] == "active"
    result = replay(tmp_path, "aurora_fx", "sprint", "sprint", history)
    # Open positions count: no minimum of days, no flat account.
    assert (result["status"], result["decided_at"]) == ("passed", "2026-03-02T08:02:00Z")


def test_sprint_fails_three_percent_down_on_the_day(tmp_path: Path) -> None:
    history = History("2026-03-02T08:00:00+01:00", "10000")
    history.deal("2026-03-02T09:00:00+01:00", "p1", "in", "20")
    history.snapshot("2026-03-02T09:01:00+01:00", "10000", "9699.99")
    result = replay(tmp_path, "aurora_fx", "sprint", "sprint", history)
    assert (result["status"], result["rule"]) == ("failed", "daily_loss")


def test_sprint_pays_out_on_demand_from_the_first_day() -> None:
    payout = effective_terms(load("aurora_fx", "sprint"))["payout"]
    assert (payout["cadence"], payout["first_after_days"]) == ("on_demand", 0)
    assert payout["flat_required"] is False and payout["kyc_required"] is True


# -- summit_futures/combine ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "balance", "drawdown", "daily", "target", "contracts"),
    [
        ("50k", "50000", "2000", "1000", "3000", "5"),
        ("100k", "100000", "3000", "2000", "6000", "10"),
        ("150k", "150000", "4500", "3000", "9000", "15"),
    ],
)
def test_combine_amounts_per_size(
    size: str, balance: str, drawdown: str, daily: str, target: str, contracts: str
) -> None:
    data = load("summit_futures", "combine")
    assert next(s for s in data["sizes"] if s["code"] == size)["balance"] == balance
    for phase in ("combine", "funded"):
        spec = effective_phase(data, phase, size)
        assert spec.rule("max_loss").params == {
            "trail": "equity_hwm",
            "amount": {"fixed": drawdown},
            "lock": {"offset": "100"},
        }
        assert spec.rule("daily_loss").params["amount"] == {"fixed": daily}
        assert spec.rule("daily_loss").params["severity"] == "pause"
        assert spec.rule("max_position").params == {"max_open_lots": contracts, "unit": "contract"}
    combine = effective_phase(data, "combine", size)
    assert combine.rule("profit_target").params["amount"] == {"fixed": target}


def test_combine_breaches_its_intraday_trailing_drawdown(tmp_path: Path) -> None:
    history = History("2026-03-02T08:30:00-06:00", "50000")
    history.deal("2026-03-02T08:35:00-06:00", "p1", "in", "2")
    history.snapshot("2026-03-02T09:00:00-06:00", "50000", "51500")
    history.snapshot("2026-03-02T09:30:00-06:00", "50000", "49499.50")
    peak = replay(tmp_path, "summit_futures", "combine", "combine", history, first=3, size="50k")
    assert objective(peak, "max_loss")["floor"] == "49500.00"  # unrealized profit counts
    result = replay(tmp_path, "summit_futures", "combine", "combine", history, size="50k")
    assert (result["status"], result["rule"], result["decided_at"]) == (
        "failed",
        "max_loss",
        "2026-03-02T15:30:00Z",
    )
    assert result["explanation"] == (
        "Equity 49,499.50 fell below the maximum-loss floor 49,500.00 (the highest equity "
        "reached 51,500.00 minus the maximum loss 2,000.00)."
    )
    # The same history on a 100K combine: $3,000 of room, so it is still trading.
    bigger = History("2026-03-02T08:30:00-06:00", "100000")
    bigger.deal("2026-03-02T08:35:00-06:00", "p1", "in", "2")
    bigger.snapshot("2026-03-02T09:00:00-06:00", "100000", "101500")
    bigger.snapshot("2026-03-02T09:30:00-06:00", "100000", "99499.50")
    still = replay(tmp_path, "summit_futures", "combine", "combine", bigger, size="100k")
    assert still["status"] == "active"
    assert objective(still, "max_loss")["floor"] == "98500.00"


def test_combine_trailing_floor_locks_at_start_plus_100(tmp_path: Path) -> None:
    history = History("2026-03-02T08:30:00-06:00", "50000")
    history.deal("2026-03-02T08:35:00-06:00", "p1", "in", "2")
    history.snapshot("2026-03-02T09:00:00-06:00", "50000", "53000")
    result = replay(tmp_path, "summit_futures", "combine", "combine", history, size="50k")
    found = objective(result, "max_loss")
    assert (found["floor"], found["locked"]) == ("50100.00", True)


def test_combine_must_be_flat_by_3_10_pm_chicago(tmp_path: Path) -> None:
    history = History("2026-03-02T08:30:00-06:00", "50000")
    history.deal("2026-03-02T14:00:00-06:00", "p1", "in", "1")
    before = replay(
        tmp_path,
        "summit_futures",
        "combine",
        "combine",
        history,
        size="50k",
        until="2026-03-02T15:09:59-06:00",
    )
    assert before["status"] == "active"
    result = replay(
        tmp_path,
        "summit_futures",
        "combine",
        "combine",
        history,
        size="50k",
        until="2026-03-02T15:10:00-06:00",
    )
    assert (result["status"], result["rule"], result["decided_at"]) == (
        "failed",
        "flat_by",
        "2026-03-02T21:10:00Z",
    )


def test_combine_daily_loss_pauses_instead_of_failing(tmp_path: Path) -> None:
    history = History("2026-03-02T08:30:00-06:00", "100000")
    history.trade("2026-03-02T09:00:00-06:00", "2026-03-02T09:30:00-06:00", "-2000.25")
    result = replay(tmp_path, "summit_futures", "combine", "combine", history, size="100k")
    assert result["status"] == "paused"
    why = result["history"][-1]["explanation"]
    assert why.endswith("trading is paused until the reset at 17:00 America/Chicago.")
