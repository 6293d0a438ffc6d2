"""``propdesk replay``: strict inputs, clear errors, and the same verdict byte for byte."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from replaykit import invoke, objective, replay_args, verdict

OPENED = {"type": "account_opened", "time": "2026-03-02T08:00:00+01:00", "balance": "100000"}


def deal(time: str, number: int, entry: str, profit: str = "0", **extra: str) -> dict[str, Any]:
    return {
        "type": "deal",
        "time": time,
        "id": f"d{number}",
        "position": "p1",
        "symbol": "EURUSD",
        "side": "buy" if entry == "in" else "sell",
        "entry": entry,
        "volume": "1",
        "price": "1.08000",
        "profit": profit,
        **extra,
    }


HISTORY = [
    OPENED,
    deal("2026-03-02T09:00:00+01:00", 1, "in"),
    deal("2026-03-02T10:00:00+01:00", 2, "out", "250.50", commission="-7"),
    {
        "type": "snapshot",
        "time": "2026-03-03T09:00:00+01:00",
        "balance": "100243.50",
        "equity": "100243.50",
    },
]


def product() -> dict[str, Any]:
    rule = {"percent": "5", "of": "initial_balance"}
    return {
        "code": "cli-sample",
        "name": "Replay sample",
        "currency": "USD",
        "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
        "sizes": [{"code": "100k", "balance": "100000", "prices": {"USD": "540.00"}}],
        "phases": [
            {
                "code": "phase1",
                "name": "Phase 1",
                "kind": "evaluation",
                "platform": "mt5",
                "group": "demo\\cli\\phase1",
                "leverage": 100,
                "rules": [
                    {"family": "daily_loss", "params": {"amount": rule}},
                    {
                        "family": "max_loss",
                        "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                    },
                    {
                        "family": "profit_target",
                        "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                    },
                    {"family": "time_limit", "params": {"days": 30}},
                ],
            }
        ],
        "payout": {"split_percent": "80", "cadence": "biweekly"},
    }


def write_product(folder: Path, data: dict[str, Any], name: str = "product.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def write_events(folder: Path, rows: list[Any], name: str = "events.jsonl") -> Path:
    path = folder / name
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(folder: Path, rows: list[Any], *extra: str, data: dict[str, Any] | None = None) -> Any:
    args = replay_args(
        write_product(folder, data or product()), write_events(folder, rows), "phase1"
    )
    return invoke([*args, *extra])


# -- bad events ------------------------------------------------------------------------------


def test_an_unknown_event_type_names_its_line(tmp_path: Path) -> None:
    result = run(tmp_path, [OPENED, {"type": "trade", "time": "2026-03-02T09:00:00+01:00"}])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "events.jsonl: line 2: unknown event type 'trade' (known: account_opened" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("equity", "message"),
    [
        ('"lots"', "line 2: snapshot: field 'equity': 'lots' is not a decimal number"),
        # A JSON number with a fraction is a float, and floats are inexact: refused.
        (
            "99999.5",
            "line 2: snapshot: field 'equity': 99999.5 is a JSON number; write amounts "
            "as decimal strings",
        ),
        ("1e5", "line 2: snapshot: field 'equity': 100000.0 is a JSON number"),
    ],
)
def test_an_amount_that_is_not_a_decimal_string_names_its_line(
    tmp_path: Path, equity: str, message: str
) -> None:
    snapshot = (
        '{"type":"snapshot","time":"2026-03-02T09:00:00+01:00","balance":"100000",'
        f'"equity":{equity}}}'
    )
    result = run(tmp_path, [OPENED, snapshot])
    assert result.exit_code == 1
    assert message in result.stderr


def test_time_going_backwards_names_its_line(tmp_path: Path) -> None:
    earlier = {**HISTORY[3], "time": "2026-03-02T09:59:59+01:00"}
    result = run(tmp_path, [*HISTORY[:3], earlier])
    assert result.exit_code == 1
    assert (
        "line 4: time goes backwards: 2026-03-02T08:59:59Z is before 2026-03-02T09:00:00Z"
        in result.stderr
    )


def test_offsets_are_compared_as_instants_not_as_text(tmp_path: Path) -> None:
    # 09:30 in New York is after 10:00 in Prague: not backwards.
    later = {**HISTORY[3], "time": "2026-03-02T09:30:00-05:00"}
    result = run(tmp_path, [*HISTORY[:3], later])
    assert result.exit_code == 0, result.stderr


def test_a_time_without_offset_is_refused(tmp_path: Path) -> None:
    naive = {**HISTORY[1], "time": "2026-03-02T09:00:00"}
    result = run(tmp_path, [OPENED, naive])
    assert result.exit_code == 1
    assert (
        "line 2: deal: field 'time': '2026-03-02T09:00:00' has no UTC offset "
        "(write e.g. 2026-03-02T09:30:00+01:00)" in result.stderr
    )


def test_an_event_before_the_account_opened_is_refused(tmp_path: Path) -> None:
    early = {**HISTORY[3], "time": "2026-03-02T07:00:00+01:00"}
    result = run(tmp_path, [early, OPENED])
    assert result.exit_code == 1
    assert "line 1: snapshot before account_opened" in result.stderr


def test_invalid_json_and_unknown_fields_name_their_line(tmp_path: Path) -> None:
    result = run(tmp_path, [OPENED, '{"type":"snapshot",'])
    assert result.exit_code == 1
    assert "line 2: not valid JSON" in result.stderr
    extra = {**HISTORY[3], "margin": "1000"}
    result = run(tmp_path, [OPENED, extra])
    assert result.exit_code == 1
    assert "line 2: snapshot: unknown field(s) margin" in result.stderr


def test_until_must_have_an_offset_and_not_precede_the_history(tmp_path: Path) -> None:
    naive = run(tmp_path, HISTORY, "--until", "2026-04-01")
    assert naive.exit_code == 1
    assert "--until: '2026-04-01' has no UTC offset" in naive.stderr
    early = run(tmp_path, HISTORY, "--until", "2026-03-01T00:00:00+00:00")
    assert early.exit_code == 1
    assert "--until 2026-03-01T00:00:00Z is before the last event" in early.stderr


# -- bad products ----------------------------------------------------------------------------


def test_an_invalid_product_lists_every_problem_with_its_pointer(tmp_path: Path) -> None:
    data = product()
    data["currency"] = "usd"
    rules = data["phases"][0]["rules"]
    rules[0]["params"]["amount"]["percent"] = "five"
    rules[1]["params"]["trail"] = "weekly"
    rules.append({"family": "martingale_ban", "params": {}})
    result = run(tmp_path, HISTORY, data=data)
    assert result.exit_code == 1
    assert result.stdout == ""
    where = f"{tmp_path / 'product.json'}#"
    lines = result.stderr.splitlines()
    for pointer, message in [
        ("/currency", "'usd' must be a three-letter ISO 4217 currency code"),
        ("/phases/0/rules/0/params/amount/percent", "'five' must be a percentage"),
        ("/phases/0/rules/1/params/trail", "must be one of: none, equity_hwm"),
        ("/phases/0/rules/4/family", "unknown rule family 'martingale_ban'"),
    ]:
        assert any(line.startswith(f"{where}{pointer}: {message}") for line in lines), pointer
    assert lines[-1] == f"{tmp_path / 'product.json'}: 4 problem(s); nothing evaluated"


def test_a_product_that_is_not_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "product.json"
    path.write_text('{"code": "x"\n', encoding="utf-8")
    events = write_events(tmp_path, HISTORY)
    result = invoke(replay_args(path, events, "phase1"))
    assert result.exit_code == 1
    assert "product.json: not valid JSON: Expecting ',' delimiter (line 2, column 1)" in (
        result.stderr
    )


def test_an_unknown_phase_or_size_names_the_ones_there_are(tmp_path: Path) -> None:
    path = write_product(tmp_path, product())
    events = write_events(tmp_path, HISTORY)
    result = invoke(replay_args(path, events, "phase9"))
    assert result.exit_code == 1
    assert "has no phase 'phase9' (phases: phase1)" in result.stderr
    result = invoke(replay_args(path, events, "phase1", size="1m"))
    assert result.exit_code == 1
    assert "has no size '1m' (sizes: 100k)" in result.stderr


# -- the verdict -----------------------------------------------------------------------------


def test_the_verdict_has_everything_needed_to_audit_it(tmp_path: Path) -> None:
    path = write_product(tmp_path, product())
    data = verdict(path, write_events(tmp_path, HISTORY), "phase1")
    assert data["status"] == "active"
    for key in ("decided_at", "rule", "explanation"):
        assert data[key] is None
    assert data["history"] == [
        {
            "time": "2026-03-02T07:00:00Z",
            "status": "active",
            "rule": None,
            "explanation": "The account opened.",
        },
    ]
    assert [o["rule"] for o in data["objectives"]] == [
        "daily_loss",
        "max_loss",
        "profit_target",
        "time_limit",
    ]
    assert objective(data, "daily_loss")["floor"] == "95243.50"  # the day-2 balance - 5,000
    assert objective(data, "max_loss")["floor"] == "90000.00"
    target = objective(data, "profit_target")
    assert (target["progress"], target["remaining"]) == ("243.50", "9756.50")
    assert data["product"]["code"] == "cli-sample"
    assert data["product"]["version_hash"].startswith("sha256:")
    assert len(data["input_sha256"]) == 64
    assert (data["phase"], data["events"], data["evaluated_until"]) == (
        "phase1",
        4,
        "2026-03-03T08:00:00Z",
    )
    assert data["account"]["balance"] == "100243.50"


def test_until_lets_a_time_based_rule_decide(tmp_path: Path) -> None:
    before = run(tmp_path, HISTORY, "--until", "2026-04-01T07:59:59+02:00")
    assert json.loads(before.stdout)["status"] == "active"
    result = run(tmp_path, HISTORY, "--until", "2026-04-01T08:00:00+02:00")
    data = json.loads(result.stdout)
    # 30 calendar days after 08:00 CET on 2 March is 08:00 CEST on 1 April (06:00 UTC).
    assert (data["status"], data["rule"], data["decided_at"]) == (
        "expired",
        "time_limit",
        "2026-04-01T06:00:00Z",
    )
    assert data["explanation"] == (
        "The 30-day trading period that began 2026-03-02 08:00 Europe/Prague ended at "
        "2026-04-01 08:00 Europe/Prague before every objective was met; the account expires."
    )
    assert data["evaluated_until"] == "2026-04-01T06:00:00Z"


def test_same_input_same_output_byte_for_byte(tmp_path: Path) -> None:
    first = run(tmp_path, HISTORY, "--until", "2026-03-10T00:00:00+01:00")
    second = run(tmp_path, HISTORY, "--until", "2026-03-10T00:00:00+01:00")
    assert first.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes
    assert first.stdout.count("\n") == 1  # one canonical JSON line


def test_the_installed_console_script_prints_the_same_verdict(tmp_path: Path) -> None:
    # One run of the real entry point (``propdesk = propdesk.cli:main``); it is slow to start.
    script = Path(sys.executable).with_name("propdesk")
    assert script.exists(), f"no console script next to {sys.executable}"
    args = replay_args(
        write_product(tmp_path, product()), write_events(tmp_path, HISTORY), "phase1"
    )
    done = subprocess.run(
        [str(script), *args], capture_output=True, timeout=120, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == invoke(args).stdout_bytes


def test_the_input_hash_follows_the_events_and_the_version_hash_the_product(
    tmp_path: Path,
) -> None:
    base = json.loads(run(tmp_path, HISTORY).stdout)
    changed = copy.deepcopy(HISTORY)
    changed[2]["profit"] = "250.51"
    one_event = json.loads(run(tmp_path, changed).stdout)
    assert one_event["input_sha256"] != base["input_sha256"]
    assert one_event["product"]["version_hash"] == base["product"]["version_hash"]
    # Spacing, key order and how an instant or amount is written do not change the inputs.
    respelled = [json.dumps(row, indent=1, sort_keys=True).replace("\n", " ") for row in HISTORY]
    respelled[1] = respelled[1].replace("2026-03-02T09:00:00+01:00", "2026-03-02T08:00:00Z")
    respelled[2] = respelled[2].replace('"250.50"', '"250.5"')
    same = json.loads(run(tmp_path, respelled).stdout)
    assert same["input_sha256"] == base["input_sha256"]
    data = product()
    data["phases"][0]["rules"][0]["params"]["amount"]["percent"] = "4"
    other = json.loads(run(tmp_path, HISTORY, data=data).stdout)
    assert other["product"]["version_hash"] != base["product"]["version_hash"]
    assert other["input_sha256"] != base["input_sha256"]
    until = json.loads(run(tmp_path, HISTORY, "--until", "2026-03-04T00:00:00+01:00").stdout)
    assert until["input_sha256"] != base["input_sha256"]


def test_the_human_readable_verdict(tmp_path: Path) -> None:
    result = invoke(
        replay_args(
            write_product(tmp_path, product()),
            write_events(tmp_path, HISTORY),
            "phase1",
            until="2026-04-01T08:00:00+02:00",
        )[:-1]  # without --json
    )
    assert result.exit_code == 0, result.stderr
    assert "Status: expired at 2026-04-01T06:00:00Z" in result.stdout
    assert "The 30-day trading period" in result.stdout
    assert "inputs sha256" in result.stdout
