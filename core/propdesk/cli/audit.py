"""``propdesk audit``: verify the hash chains and show recent records."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import click
from rich.markup import escape
from rich.table import Table

from propdesk.audit import service
from propdesk.cli.common import console, run
from propdesk.errors import NotFound
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.directory import load_tenant, load_tenants
from propdesk.tenancy.naming import SHARED_SCHEMA


@dataclass(frozen=True)
class ChainReport:
    label: str
    result: service.VerifyResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok

    def line(self) -> str:
        if self.result is None:
            return f"{self.label}: could not verify: {self.error}"
        if self.result.first_broken is None:
            return f"{self.label}: {self.result.checked} records, intact"
        broken = self.result.first_broken
        return f"{self.label}: BROKEN at record {broken.seq}: {broken.reason}"


async def _tenant(runtime: Runtime, slug: str) -> TenantContext:
    async with runtime.db.session() as session:
        tenant = await load_tenant(session, slug)
    if tenant is None:
        raise NotFound(f"no desk with slug {slug!r}: see `propdesk tenants list`")
    return tenant


async def _verify_one(runtime: Runtime, tenant: TenantContext | None) -> ChainReport:
    label = f"{SHARED_SCHEMA} (shared)" if tenant is None else tenant.schema
    try:
        async with runtime.db.session(tenant) as session:
            result = await service.verify(session, "shared" if tenant is None else "tenant")
    except Exception as exc:  # one unreadable chain must not hide the others
        return ChainReport(label, error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    return ChainReport(label, result)


async def verify_chains(runtime: Runtime, slug: str | None) -> list[ChainReport]:
    """Verify one desk's chain, or the shared chain and every desk's chain."""
    if slug is not None:
        return [await _verify_one(runtime, await _tenant(runtime, slug))]
    async with runtime.db.session() as session:
        tenants = await load_tenants(session)
    reports = [await _verify_one(runtime, None)]
    for tenant in tenants:
        reports.append(await _verify_one(runtime, tenant))
    return reports


@click.group()
def audit() -> None:
    """The hash-chained audit log: one chain per desk and one for the shared schema."""


@audit.command()
@click.option("--tenant", "slug", metavar="SLUG", help="Verify only this desk's chain.")
def verify(slug: str | None) -> None:
    """Re-hash every chain and name the first broken record; exits 1 if any chain is broken."""
    reports = run(lambda runtime: verify_chains(runtime, slug))
    for report in reports:
        style = "green" if report.ok else "bold red"
        console.print(f"[{style}]{escape(report.line())}[/]", soft_wrap=True)
    if not all(report.ok for report in reports):
        sys.exit(1)


@audit.command()
@click.option("--tenant", "slug", metavar="SLUG", help="This desk's chain (default: shared).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--action", help="Only records of this action.")
def show(slug: str | None, limit: int, action: str | None) -> None:
    """The most recent audit records, oldest of them first."""

    async def action_(runtime: Runtime) -> list:
        tenant = None if slug is None else await _tenant(runtime, slug)
        async with runtime.db.session(tenant) as session:
            rows = await service.list_records(
                session,
                "shared" if tenant is None else "tenant",
                limit=limit,
                action=action,
                newest_first=True,
            )
        return list(reversed(rows))

    rows = run(action_)
    title = f"{SHARED_SCHEMA} (shared)" if slug is None else f"t_{slug}"
    table = Table("seq", "recorded at (UTC)", "actor", "action", "target", "change", title=title)
    for row in rows:
        table.add_row(
            str(row.seq),
            row.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(row.actor),
            escape(row.action),
            escape(row.target),
            escape(_change(row.before, row.after)),
        )
    console.print(table)
    if not rows:
        console.print("No audit records yet.")


def _change(before: object, after: object, width: int = 80) -> str:
    parts = []
    if before is not None:
        parts.append("before " + json.dumps(before, ensure_ascii=False, sort_keys=True))
    if after is not None:
        parts.append("after " + json.dumps(after, ensure_ascii=False, sort_keys=True))
    text = "; ".join(parts) or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def register(cli: click.Group) -> None:
    cli.add_command(audit)
