"""Daily loss: the floor, its anchor, its reset, and what a breach does."""

from __future__ import annotations

from rulekit import evaluate, objective, opened, rule, snap

FTMO = {"anchor": "day_start_balance", "amount": {"percent": "5", "of": "initial_balance"}}


def test_day_one_uses_the_initial_balance() -> None:
    run = evaluate([rule("daily_loss", FTMO)], [opened("2026-03-02T09:00:00+01:00")])
    assert objective(run, "daily_loss")["floor"] == "95000.00"
    assert objective(run, "daily_loss")["resets_at"] == "2026-03-02T23:00:00Z"


def test_ftmo_overnight_the_floor_follows_the_balance_not_the_floating_loss() -> None:
    # Day 1 closes with balance 102,000 and a position floating 1,000 in loss (equity 101,000).
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T23:30:00+01:00", "102000", "101000"),
        snap("2026-03-03T10:00:00+01:00", "102000", "97000"),
    ]
    run = evaluate([rule("daily_loss", FTMO)], rows)
    found = objective(run, "daily_loss")
    assert (found["anchor"], found["floor"]) == ("102000.00", "97000.00")
    assert run.status == "active"  # exactly at the floor is not below it

    run = evaluate(
        [rule("daily_loss", FTMO)], [*rows, snap("2026-03-03T10:01:00+01:00", "102000", "96999.99")]
    )
    assert run.status == "failed"
    assert run.verdict()["explanation"] == (
        "Equity 96,999.99 fell below the daily-loss floor 97,000.00 (day-start balance "
        "102,000.00 minus the daily loss limit 5,000.00)."
    )


def test_percent_of_the_anchor_differs_from_percent_of_initial_once_the_balance_grew() -> None:
    fintokei = {"anchor": "day_start_equity", "amount": {"percent": "5", "of": "anchor"}}
    rows = [opened("2026-03-02T09:00:00+01:00"), snap("2026-03-02T23:59:00+01:00", "110000")]
    assert (
        objective(
            evaluate([rule("daily_loss", fintokei)], rows, "2026-03-03T00:00:00+01:00"),
            "daily_loss",
        )["floor"]
        == "104500.00"
    )
    assert (
        objective(
            evaluate([rule("daily_loss", FTMO)], rows, "2026-03-03T00:00:00+01:00"), "daily_loss"
        )["floor"]
        == "105000.00"
    )


def test_the_higher_of_day_start_balance_and_equity() -> None:
    aqua = {
        "anchor": "day_start_balance_or_equity",
        "amount": {"percent": "5", "of": "initial_balance"},
    }
    rows = [
        opened("2026-03-02T09:00:00+00:00"),
        snap("2026-03-02T23:00:00+00:00", "101000", "103000"),
    ]
    run = evaluate([rule("daily_loss", aqua, ctx=None)], rows, "2026-03-03T00:00:00+01:00")
    assert objective(run, "daily_loss")["floor"] == "98000.00"


def test_a_value_at_the_reset_instant_counts_for_the_new_day() -> None:
    rows = [opened("2026-03-02T09:00:00+01:00"), snap("2026-03-03T00:00:00+01:00", "101000")]
    run = evaluate([rule("daily_loss", FTMO)], rows, "2026-03-03T00:00:00+01:00")
    assert objective(run, "daily_loss")["floor"] == "96000.00"


def test_the_reset_is_decided_at_its_time_even_without_events() -> None:
    rows = [opened("2026-03-02T09:00:00+01:00"), snap("2026-03-02T15:00:00+01:00", "103000")]
    run = evaluate([rule("daily_loss", FTMO)], rows, "2026-03-05T12:00:00+01:00")
    found = objective(run, "daily_loss")
    assert (found["floor"], found["resets_at"]) == ("98000.00", "2026-03-05T23:00:00Z")


def test_pause_until_the_reset_then_a_position_held_across_it_is_checked_at_once() -> None:
    params = {**FTMO, "severity": "pause", "amount": {"percent": "3", "of": "initial_balance"}}
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T12:00:00+01:00", "100000", "96900"),
        snap("2026-03-02T13:00:00+01:00", "100000", "96000"),
        # Overnight the balance is 100,000 and the equity 96,500: the new floor is 97,000.
    ]
    run = evaluate(
        [rule("daily_loss", params)], [*rows, snap("2026-03-02T20:00:00+01:00", "100000", "96500")]
    )
    assert run.status == "paused"
    run.advance(run.next_due)  # type: ignore[arg-type]
    assert run.status == "paused"  # still below the new floor right after the reset
    statuses = [entry["status"] for entry in run.history]
    assert statuses == ["active", "paused"]

    recovered = evaluate(
        [rule("daily_loss", params)],
        [*rows, snap("2026-03-02T20:00:00+01:00", "100000", "99000")],
        "2026-03-03T00:00:00+01:00",
    )
    assert [entry["status"] for entry in recovered.history] == ["active", "paused", "active"]
    assert recovered.history[-1]["time"] == "2026-03-02T23:00:00Z"


def test_tolerance_absorbs_rounding_at_the_boundary() -> None:
    params = {**FTMO, "tolerance": "0.01"}
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "100000", "94999.99"),
    ]
    assert evaluate([rule("daily_loss", params)], rows).status == "active"
    rows[-1] = snap("2026-03-02T10:00:00+01:00", "100000", "94999.98")
    assert evaluate([rule("daily_loss", params)], rows).status == "failed"


def test_closed_balance_measure_ignores_floating_losses() -> None:
    params = {**FTMO, "measure": "balance"}
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        snap("2026-03-02T10:00:00+01:00", "100000", "90000"),
    ]
    assert evaluate([rule("daily_loss", params)], rows).status == "active"


def test_a_payout_is_not_a_trading_loss() -> None:
    rows = [
        opened("2026-03-02T09:00:00+01:00"),
        {
            "type": "balance",
            "time": "2026-03-02T10:00:00+01:00",
            "amount": "-8000",
            "comment": "payout",
        },
    ]
    run = evaluate([rule("daily_loss", FTMO)], rows)
    assert run.status == "active"
    assert objective(run, "daily_loss")["floor"] == "87000.00"


def test_a_fixed_amount() -> None:
    params = {"anchor": "day_start_balance", "amount": {"fixed": "1000"}}
    rows = [
        opened("2026-03-02T09:00:00-06:00", "50000"),
        snap("2026-03-02T10:00:00-06:00", "50000", "48999"),
    ]
    assert evaluate([rule("daily_loss", params)], rows).status == "failed"
