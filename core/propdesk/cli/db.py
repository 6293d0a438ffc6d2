"""``propdesk db upgrade``: migrate the shared schema and every tenant schema."""

from __future__ import annotations

import sys

import click

from propdesk.cli.common import console, run
from propdesk.runtime import Runtime
from propdesk.tenancy.provisioning import UpgradeReport, upgrade_all


@click.group()
def db() -> None:
    """Database schema management."""


@db.command()
def upgrade() -> None:
    """Migrate the shared schema, then each tenant schema (failures do not stop the others)."""

    async def action(runtime: Runtime) -> UpgradeReport:
        return await upgrade_all(runtime.db, runtime.host)

    report = run(action, require_migrated=False)
    shared = ", ".join(report.shared) if report.shared else "up to date"
    console.print(f"shared schema propdesk: {shared}")
    for slug, heads in report.tenants.items():
        console.print(f"tenant {slug} (t_{slug}): {', '.join(heads) if heads else 'up to date'}")
    for slug, error in report.failures.items():
        console.print(f"[red]tenant {slug} (t_{slug}): FAILED: {error}[/red]")
    if report.failures:
        console.print(f"[red]{len(report.failures)} tenant schema(s) failed to migrate[/red]")
        sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(db)
