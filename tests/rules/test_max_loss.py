"""Maximum loss: static and trailing floors, locks, and the published worked examples."""

from __future__ import annotations

from rulekit import evaluate, objective, opened, rule, snap

TEN_PERCENT = {"percent": "10", "of": "initial_balance"}


def test_ftmo_one_step_end_of_day_trailing_worked_example() -> None:
    # Day 1 limit 90,000; EOD balance 104,000 -> day 2 limit 94,000; EOD 103,000 -> stays 94,000.
    params = {"trail": "eod_balance", "amount": TEN_PERCENT}
    rows = [opened("2026-03-02T08:00:00+01:00")]
    assert objective(evaluate([rule("max_loss", params)], rows), "max_loss")["floor"] == "90000.00"
    rows.append(snap("2026-03-02T22:00:00+01:00", "104000"))
    day2 = evaluate([rule("max_loss", params)], rows, "2026-03-03T00:00:00+01:00")
    assert objective(day2, "max_loss")["floor"] == "94000.00"
    rows.append(snap("2026-03-03T22:00:00+01:00", "103000"))
    day3 = evaluate([rule("max_loss", params)], rows, "2026-03-04T00:00:00+01:00")
    assert objective(day3, "max_loss")["floor"] == "94000.00"


def test_intraday_floating_profit_does_not_move_an_end_of_day_floor() -> None:
    params = {"trail": "eod_balance", "amount": TEN_PERCENT}
    rows = [
        opened("2026-03-02T08:00:00+01:00"),
        snap("2026-03-02T12:00:00+01:00", "100000", "108000"),
    ]
    run = evaluate([rule("max_loss", params)], rows, "2026-03-03T00:00:00+01:00")
    assert objective(run, "max_loss")["floor"] == "90000.00"


def test_static_floor_and_the_breach_strictly_below() -> None:
    rows = [
        opened("2026-03-02T08:00:00+01:00"),
        snap("2026-03-02T12:00:00+01:00", "100000", "90000"),
    ]
    assert evaluate([rule("max_loss", {"amount": TEN_PERCENT})], rows).status == "active"
    rows.append(snap("2026-03-02T12:01:00+01:00", "100000", "89999.99"))
    run = evaluate([rule("max_loss", {"amount": TEN_PERCENT})], rows)
    assert run.status == "failed"
    assert run.verdict()["explanation"] == (
        "Equity 89,999.99 fell below the maximum-loss floor 90,000.00 (initial balance "
        "100,000.00 minus the maximum loss 10,000.00)."
    )


def test_apex_intraday_trailing_on_unrealized_equity_locks_at_start_plus_100() -> None:
    params = {"trail": "equity_hwm", "amount": {"fixed": "2500"}, "lock": {"offset": "100"}}
    rows = [
        opened("2026-03-02T08:00:00-05:00", "50000"),
        snap("2026-03-02T09:00:00-05:00", "50000", "52000"),
    ]
    assert objective(evaluate([rule("max_loss", params)], rows), "max_loss")["floor"] == "49500.00"
    rows.append(snap("2026-03-02T10:00:00-05:00", "50000", "53000"))
    found = objective(evaluate([rule("max_loss", params)], rows), "max_loss")
    assert (found["floor"], found["locked"]) == ("50100.00", True)
    rows.append(snap("2026-03-02T11:00:00-05:00", "50000", "56000"))
    assert objective(evaluate([rule("max_loss", params)], rows), "max_loss")["floor"] == "50100.00"
    rows.append(snap("2026-03-02T12:00:00-05:00", "50000", "50099"))
    run = evaluate([rule("max_loss", params)], rows)
    assert run.status == "failed"
    assert "locked at 50,100.00" in run.verdict()["explanation"]


def test_e8_trailing_floor_stays_after_a_profit_withdrawal() -> None:
    # +3,000 on 100k moves the floor 94,000 -> 97,000; withdrawing the profit leaves it there.
    params = {"trail": "balance_hwm", "amount": {"percent": "6", "of": "initial_balance"}}
    rows = [
        opened("2026-03-02T08:00:00+00:00"),
        snap("2026-03-02T09:00:00+00:00", "103000"),
        {
            "type": "balance",
            "time": "2026-03-03T09:00:00+00:00",
            "amount": "-2400",
            "comment": "payout",
        },
    ]
    run = evaluate([rule("max_loss", params)], rows)
    assert objective(run, "max_loss")["floor"] == "97000.00"
    assert run.status == "active"


def test_trading_pit_eod_trailing_stops_at_the_starting_balance() -> None:
    params = {
        "trail": "eod_balance",
        "amount": {"percent": "5", "of": "initial_balance"},
        "lock": {"offset": "0"},
    }
    rows = [opened("2026-03-02T08:00:00+00:00")]
    for day, balance in enumerate(["102000", "104000", "107000"], start=2):
        rows.append(snap(f"2026-03-0{day}T20:00:00+00:00", balance))
    run = evaluate([rule("max_loss", params)], rows, "2026-03-05T00:00:00+01:00")
    assert objective(run, "max_loss")["floor"] == "100000.00"


def test_a_drawdown_as_a_share_of_the_high_water_mark_grows_with_it() -> None:
    # TryAqua: 5% trailing drawdown; the high reaches 1,050 -> floor 997.50.
    params = {"trail": "equity_hwm", "amount": {"percent": "5", "of": "high_water_mark"}}
    rows = [opened("2026-03-02T08:00:00+00:00", "1000")]
    assert objective(evaluate([rule("max_loss", params)], rows), "max_loss")["floor"] == "950.00"
    rows.append(snap("2026-03-02T09:00:00+00:00", "1000", "1050"))
    found = objective(evaluate([rule("max_loss", params)], rows), "max_loss")
    assert (found["floor"], found["limit"]) == ("997.50", "52.50")
    rows.append(snap("2026-03-02T10:00:00+00:00", "1000", "997.49"))
    assert evaluate([rule("max_loss", params)], rows).status == "failed"
