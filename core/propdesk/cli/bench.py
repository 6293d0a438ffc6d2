"""``propdesk bench``: benchmarks that print their figures."""

from __future__ import annotations

import json

import click

from propdesk.catalogue.families import rule_families
from propdesk.cli.common import console
from propdesk.engine import bench as rules_bench
from propdesk.engine import bench_engine
from propdesk.plugins.manager import PluginHost
from propdesk.settings import get_settings


@click.group()
def bench() -> None:
    """Benchmarks of the hot paths; each prints its figures (with --json, one line)."""


@bench.command(name="rules")
@click.option("--accounts", default=100_000, show_default=True)
@click.option("--events", default=2_000_000, show_default=True, help="Equity updates to feed.")
@click.option("--json", "as_json", is_flag=True, help="One line: metric, value, unit, target.")
def rules(accounts: int, events: int, as_json: bool) -> None:
    """Account updates per second through the standard rule set, on one core."""
    families = rule_families(PluginHost.load(get_settings()))
    if not as_json:
        console.print(f"Building {accounts:,} accounts and {events:,} equity updates…")
    result = rules_bench.run(families, accounts=accounts, events=events)
    if as_json:
        click.echo(json.dumps(result.line()))
        return
    verdict = "meets" if result.per_second >= rules_bench.TARGET_PER_SECOND else "misses"
    console.print(
        f"{result.events:,} updates over {result.accounts:,} accounts in {result.seconds:.2f} s: "
        f"[bold]{result.per_second:,.0f} updates/s[/] ({verdict} the target of "
        f"{rules_bench.TARGET_PER_SECOND:,}/s); {result.failed:,} failed, {result.passed:,} passed."
    )


@bench.command(name="engine")
@click.option("--accounts", default=100_000, show_default=True)
@click.option("--events", default=2_000_000, show_default=True, help="Equity updates to feed.")
@click.option("--json", "as_json", is_flag=True, help="End with one line: metric, value, unit.")
def engine(accounts: int, events: int, as_json: bool) -> None:
    """Account updates per second through the engine's hot path (decode, evaluate, state)."""
    families = rule_families(PluginHost.load(get_settings()))
    console.print(f"Building {accounts:,} accounts and {events:,} equity updates…")
    result = bench_engine.run(families, accounts=accounts, events=events)
    verdict = "meets" if result.per_second >= rules_bench.TARGET_PER_SECOND else "misses"
    console.print(
        f"{result.updates:,} updates ({result.clocks:,} clock events at the daily reset, "
        f"{result.clock_seconds:.2f} s) over "
        f"{result.accounts:,} accounts in {result.seconds:.2f} s: decode + evaluate + state "
        f"update at [bold]{result.per_second:,.0f} updates/s[/] ({verdict} the target of "
        f"{rules_bench.TARGET_PER_SECOND:,}/s); {result.failed:,} failed, {result.passed:,} passed."
    )
    if as_json:
        click.echo(json.dumps(result.line()))


def register(cli: click.Group) -> None:
    from propdesk.cli.bench_latency import breach_latency

    bench.add_command(breach_latency)
    cli.add_command(bench)
