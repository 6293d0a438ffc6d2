"""``propdesk chaos``: fault injection that prints what broke (nothing, we hope)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from propdesk.cli.common import console
from propdesk.embedded import running_services
from propdesk.logs import configure_logging
from propdesk.settings import get_settings


@click.group()
def chaos() -> None:
    """Kill workers at random points and check the books afterwards."""


@chaos.command(name="payouts")
@click.option("--runs", default=200, show_default=True, help="Payouts to pay under faults.")
@click.option("--accounts", default=50, show_default=True, help="Payouts in flight at once.")
@click.option(
    "--crash-rate",
    default=0.02,
    show_default=True,
    help="Chance that the worker kills itself at each crash point it passes.",
)
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--worker-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the killed workers' output in this file.",
)
@click.option("--json", "as_json", is_flag=True, help="One line of JSON.")
def payouts(
    runs: int,
    accounts: int,
    crash_rate: float,
    seed: int,
    worker_log: Path | None,
    as_json: bool,
) -> None:
    """Pay RUNS payouts on the MT5 and Stripe simulators while a real worker is SIGKILLed at
    random moments and at the crash points; report double payments, lost payouts and whether
    the ledger balances. Exits non-zero if anything broke."""
    from propdesk.payouts import chaos as harness

    settings = get_settings()
    configure_logging("ERROR", settings.log_format)
    if not as_json:
        console.print(f"Paying {runs} payouts under fault injection (seed {seed})…")
    with running_services(settings) as urls:
        report = asyncio.run(
            harness.run(
                settings,
                database_url=urls.database_url,
                redis_url=urls.redis_url,
                runs=runs,
                seed=seed,
                accounts=accounts,
                crash_rate=crash_rate,
                keep_log=worker_log,
            )
        )
    line = report.line()
    if as_json:
        click.echo(json.dumps(line))
    else:
        console.print(
            f"{report.runs} payouts, {report.paid} paid in {report.seconds} s; worker killed "
            f"{report.kills} times by the harness and {report.crash_point_kills} times at crash "
            f"points {report.crash_points}; payouts were {report.killed_at} at the kills.\n"
            f"[bold]double payments {report.double_payments}, double withdrawals "
            f"{report.double_withdrawals}, lost payouts {report.lost_payouts}, ledger "
            f"{'balanced' if report.ledger_balanced else 'NOT balanced'}[/]; longest recovery "
            f"after a kill {report.max_recovery_seconds:.1f} s."
        )
    broken = report.double_payments or report.double_withdrawals or report.lost_payouts
    if broken or not report.ledger_balanced:
        sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(chaos)
