"""``propdesk worker``: run the arq worker (outbox dispatch, sweeps, plugin jobs)."""

from __future__ import annotations

import sys

import click

from propdesk.cli.common import console, run
from propdesk.logs import configure_logging
from propdesk.runtime import Runtime
from propdesk.settings import get_settings


@click.command()
@click.option(
    "--burst", is_flag=True, help="Process what is queued, then exit (non-zero if a job failed)."
)
def worker(burst: bool) -> None:
    """Run background jobs: deliver outbox events to plugins and run plugin jobs and crons."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def action(runtime: Runtime) -> tuple[int, int, int]:
        from propdesk.worker.settings import run_worker

        done = await run_worker(runtime, burst=burst)
        return done.jobs_complete, done.jobs_failed, done.jobs_retried

    complete, failed, retried = run(action)
    if burst:
        console.print(f"worker: {complete} job(s) done, {failed} failed, {retried} retried")
        if failed:
            sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(worker)
