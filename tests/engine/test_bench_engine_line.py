"""``propdesk bench engine --json`` ends with the metric line (its shape, not its speed)."""

from __future__ import annotations

import json

from replaykit import invoke


def test_the_engine_bench_reports_then_prints_one_metric_line() -> None:
    result = invoke(["bench", "engine", "--accounts", "50", "--events", "400", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert "updates/s" in result.stdout and len(lines) >= 2  # the human report comes first
    line = json.loads(lines[-1])
    assert set(line) == {"metric", "value", "unit", "target"}
    assert line["metric"] == "engine_account_updates_per_second"
    assert line["unit"] == "account-updates/s" and line["target"] == 200_000
    assert isinstance(line["value"], int) and line["value"] > 0


def test_the_rules_bench_still_prints_its_line() -> None:
    result = invoke(["bench", "rules", "--accounts", "50", "--events", "400", "--json"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["metric"] == "rule_evaluations_per_second" and line["value"] > 0
