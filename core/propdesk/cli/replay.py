"""``propdesk replay``: the verdict of one phase of a product on an event history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.product import ProductError
from propdesk.catalogue.validation import validate_product
from propdesk.cli.common import console
from propdesk.engine.replay import render, replay
from propdesk.plugins.manager import PluginHost
from propdesk.rules.events import EventError, parse_time, read_events
from propdesk.settings import get_settings


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _load_product(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        _fail(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except OSError as exc:
        _fail(f"{path}: {exc.strerror}")


@click.command(name="replay")
@click.option("--product", "product_path", required=True, type=click.Path(path_type=Path))
@click.option("--phase", required=True, help="Phase code, e.g. phase1.")
@click.option("--events", "events_path", required=True, type=click.Path(path_type=Path))
@click.option("--size", default=None, help="Account size code (its overrides apply).")
@click.option("--addon", "addons", multiple=True, help="Add-on code; repeat for several.")
@click.option("--until", default=None, help="Evaluation time (ISO-8601 with offset).")
@click.option("--json", "as_json", is_flag=True, help="One canonical JSON line.")
def replay_command(
    product_path: Path,
    phase: str,
    events_path: Path,
    size: str | None,
    addons: tuple[str, ...],
    until: str | None,
    as_json: bool,
) -> None:
    """Evaluate PHASE of a product against EVENTS (JSON lines) and print the verdict.

    Events: account_opened, deal, snapshot, balance and news, one JSON object per line,
    times ISO-8601 with an offset, amounts as decimal strings; clock and operator events (the
    engine's, from an account's export) too. Time-based rules are decided
    up to --until (default: the last event's time). Same input, same output, byte for byte.
    """
    product = _load_product(product_path)
    families = rule_families(PluginHost.load(get_settings()))
    problems = validate_product(product, families)
    if problems:
        for problem in problems:
            click.echo(f"{product_path}#{problem.pointer}: {problem.message}", err=True)
        _fail(f"{product_path}: {len(problems)} problem(s); nothing evaluated")
    try:
        with events_path.open(encoding="utf-8") as lines:
            events = list(read_events(lines))
        cutoff = parse_time(until) if until is not None else None
        verdict = replay(product, phase, events, families, size=size, addons=addons, until=cutoff)
    except OSError as exc:
        _fail(f"{events_path}: {exc.strerror}")
    except EventError as exc:
        _fail(f"{events_path}: {exc}")
    except ProductError as exc:
        _fail(f"{product_path}: {exc}")
    except ValueError as exc:  # --until
        _fail(f"--until: {exc}")
    if as_json:
        click.echo(render(verdict))
    else:
        _show(verdict)


_NOT_NUMBERS = frozenset({"rule", "family", "role", "status", "text"})


def _show(verdict: dict[str, Any]) -> None:
    product = verdict["product"]
    console.print(
        f"[bold]{product['code']}[/] {verdict['phase']} "
        f"(version {product['version_hash'][:19]}…, {verdict['events']} events, "
        f"until {verdict['evaluated_until']})"
    )
    style = {"passed": "green", "failed": "red", "paused": "yellow"}.get(verdict["status"], "")
    console.print(f"Status: [bold {style}]{verdict['status']}[/]", end="")
    console.print(f" at {verdict['decided_at']}" if verdict["decided_at"] else "")
    if verdict["explanation"]:
        console.print(verdict["explanation"])
    table = Table("rule", "status", "numbers")
    for objective in verdict["objectives"]:
        numbers = {
            k: v
            for k, v in objective.items()
            if k not in ("rule", "family", "role", "status", "text")
        }
        shown = ", ".join(f"{k} {v}" for k, v in numbers.items() if v is not None)
        table.add_row(objective["rule"], str(objective.get("status", "")), shown)
    console.print(table)
    for entry in verdict["history"]:
        console.print(f"{entry['time']}  {entry['status']:<8} {entry['explanation']}")
    for notice in verdict["notices"]:
        console.print(f"{notice['time']}  {notice['kind']:<8} {notice['explanation']}")
    console.print(f"inputs sha256 {verdict['input_sha256']}")


def register(cli: click.Group) -> None:
    cli.add_command(replay_command)
