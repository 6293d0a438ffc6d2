"""``propdesk demo``: the whole lifecycle on one machine (see ``propdesk.demo``)."""

from __future__ import annotations

import json

import click
from rich.console import Console

from propdesk.cli.common import run
from propdesk.logs import configure_logging
from propdesk.settings import get_settings


@click.command()
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds of trading."
)
@click.option("--port", type=int, default=None, help="Web server port [PROPDESK_PORT, 8000].")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="End with one JSON line of counts on stdout (everything else goes to stderr).",
)
@click.option(
    "--until-complete",
    is_flag=True,
    help="Stop once a purchase, a breach, a pass and a payout have happened.",
)
def demo(duration: float | None, port: int | None, as_json: bool, until_complete: bool) -> None:
    """Run everything: embedded services, the demo desks on simulators, the worker and the web
    app, and simulated traders buying, trading, breaching, passing and being paid."""
    from propdesk.demo.progress import summary
    from propdesk.demo.run import Options, Outcome, run_demo

    settings = get_settings()
    console = Console(stderr=as_json, highlight=False, soft_wrap=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logs = settings.data_dir / "demo.log"
    options = Options(
        settings.host, port if port is not None else settings.port, duration, until_complete
    )
    # Open for the process's life: the event loop may still log while it closes.
    configure_logging("WARNING", settings.log_format, stream=logs.open("a", encoding="utf-8"))
    try:
        outcome: Outcome = run(
            lambda runtime: run_demo(runtime, options, console, str(logs)),
            require_migrated=False,
        )
    except KeyboardInterrupt:  # before the demo took the signals over
        console.print("Interrupted.")
        return
    summary(console, outcome.per_desk, outcome.first)
    console.print(f"Stopped. Audit trail {'intact' if outcome.audit_intact else 'BROKEN'}.")
    if as_json:
        click.echo(json.dumps(outcome.line()))


def register(cli: click.Group) -> None:
    cli.add_command(demo)
