"""``propdesk tenants``: apply manifests, list, suspend and resume desks."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from propdesk.cli.common import cli_actor, console, run
from propdesk.runtime import Runtime
from propdesk.settings import get_settings
from propdesk.tenancy import service
from propdesk.tenancy.context import TenantContext


@click.group()
def tenants() -> None:
    """Desks and brands, each in its own schema."""


@tenants.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def apply(path: Path | None) -> None:
    """Create or update tenants from PATH (default: the tenants folder); says what changed."""
    folder = path or get_settings().tenants_dir

    async def action(runtime: Runtime) -> service.ApplyReport:
        manifests = service.load_manifests(folder, runtime)
        return await service.apply_manifests(runtime, manifests, cli_actor())

    report = run(action, require_migrated=False)
    for line in report.group:
        console.print(f"group: {line}")
    for tenant in report.tenants:
        if not tenant.changes:
            console.print(f"{tenant.slug}: nothing changed")
        for line in tenant.changes:
            console.print(f"{tenant.slug}: {line}")
    if not report.changed:
        console.print("Nothing changed.")


@tenants.command(name="list")
def list_() -> None:
    """Show every tenant: slug, name, schema, status, domains and enabled plugins."""
    found: list[TenantContext] = run(service.list_tenants)
    table = Table("slug", "name", "schema", "status", "plugins")
    for tenant in found:
        status = tenant.status if tenant.status == "active" else f"[yellow]{tenant.status}[/]"
        table.add_row(
            tenant.slug,
            tenant.display_name,
            tenant.schema,
            status,
            ", ".join(sorted(tenant.plugins)) or "-",
        )
    console.print(table)
    if not found:
        console.print("No tenants yet: run `propdesk tenants apply`.")


def _set_status(slug: str, status: str, reason: str | None) -> None:
    async def action(runtime: Runtime) -> bool:
        return await service.set_status(runtime, slug, status, cli_actor(), reason)

    changed = run(action)
    word = "suspended" if status == "suspended" else "active"
    console.print(f"{slug}: {'now ' + word if changed else 'already ' + word}")
    if not changed:
        sys.exit(0)


@tenants.command()
@click.argument("slug")
@click.option("--reason", help="Why (kept in the audit log).")
def suspend(slug: str, reason: str | None) -> None:
    """Suspend a desk: its API and jobs stop serving it until resumed."""
    _set_status(slug, "suspended", reason)


@tenants.command()
@click.argument("slug")
@click.option("--reason", help="Why (kept in the audit log).")
def resume(slug: str, reason: str | None) -> None:
    """Resume a suspended desk."""
    _set_status(slug, "active", reason)


def register(cli: click.Group) -> None:
    cli.add_command(tenants)
