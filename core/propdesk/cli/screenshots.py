"""``propdesk screenshots``: regenerate ``docs/screenshots/`` from a demo run."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from propdesk.cli.common import run
from propdesk.logs import configure_logging
from propdesk.runtime import Runtime
from propdesk.settings import get_settings


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/screenshots"),
    show_default=True,
    help="Folder the PNGs are written to.",
)
@click.option("--port", type=int, default=None, help="Web server port [PROPDESK_PORT, 8000].")
@click.option(
    "--timeout", type=float, default=300.0, show_default=True, help="Give up after this long."
)
def screenshots(out: Path, port: int | None, timeout: float) -> None:
    """Run the demo until every kind of event happened, then photograph the main pages (trader
    portal, back office, leadership) in Chromium with its data."""
    from propdesk.demo.run import Options, Outcome, run_demo
    from propdesk.demo.screenshots import photographer

    settings = get_settings()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logs = settings.data_dir / "demo.log"
    configure_logging("WARNING", settings.log_format, stream=logs.open("a", encoding="utf-8"))

    folder = out.resolve()
    folder.mkdir(parents=True, exist_ok=True)

    async def action(runtime: Runtime) -> Outcome:
        options = Options(
            settings.host,
            port if port is not None else settings.port,
            duration=timeout,
            until_complete=True,
            before_stop=photographer(runtime, folder, lambda line: console.print(line)),
        )
        return await run_demo(runtime, options, console, str(logs))

    run(action, require_migrated=False)


def register(cli: click.Group) -> None:
    cli.add_command(screenshots)
