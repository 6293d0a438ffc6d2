"""``propdesk demo``: everything on one machine — services, demo desks, worker, web server.

Until the trading simulators land, the demo brings up the platform with the demo tenants and
their staff, so a newcomer can sign in, explore the API and watch the worker and audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

import click

from propdesk.cli.common import console, run
from propdesk.logs import configure_logging
from propdesk.runtime import Runtime
from propdesk.settings import get_settings

DEMO_PASSWORD = "propdesk-demo"  # noqa: S105 - printed for every demo sign-in
OPERATOR = "operator@propdesk.demo"


@dataclass
class DemoSummary:
    tenants: list[str] = field(default_factory=list)
    domains: dict[str, str] = field(default_factory=dict)
    staff: list[tuple[str, str]] = field(default_factory=list)
    audit_intact: bool = True


async def _ensure_staff(runtime: Runtime, email: str, role: str, slug: str | None) -> None:
    from propdesk.access import service
    from propdesk.tenancy.directory import load_tenant

    async with runtime.db.unit_of_work() as session:
        user = await service.find_user_by_email(session, email)
        if user is None:
            await service.create_user(
                session,
                email=email,
                password=DEMO_PASSWORD,
                actor="system:demo",
                display_name=email.split("@")[0],
            )
    async with runtime.db.session() as session:
        tenant = await load_tenant(session, slug) if slug else None
    async with runtime.db.unit_of_work(tenant) as session:
        user = await service.find_user_by_email(session, email)
        assert user is not None
        await service.grant_role(
            session,
            user=user,
            role=role,
            tenant_slug=slug,
            actor="system:demo",
            redis_url=runtime.redis_url,
        )


async def _prepare(runtime: Runtime, summary: DemoSummary) -> None:
    from propdesk.tenancy import service
    from propdesk.tenancy.provisioning import upgrade_all

    report = await upgrade_all(runtime.db, runtime.host)
    console.print(f"[green]✓[/] database migrated ({len(report.tenants)} desk schemas)")
    manifests = service.load_manifests(runtime.settings.tenants_dir, runtime)
    applied = await service.apply_manifests(runtime, manifests, "system:demo")
    summary.domains = {m.slug: m.domains[0] for m in manifests if m.domains}
    for tenant in applied.tenants:
        state = "created" if tenant.created else "up to date"
        console.print(f"[green]✓[/] desk {tenant.slug} {state}")
        for change in tenant.changes:
            if change.startswith("published "):
                console.print(f"  [green]✓[/] {change}")
        summary.tenants.append(tenant.slug)
    await _ensure_staff(runtime, OPERATOR, "operator", None)
    summary.staff.append((OPERATOR, "operator, all desks"))
    for slug in summary.tenants:
        email = f"admin@{slug.replace('_', '-')}.demo"
        await _ensure_staff(runtime, email, "desk_admin", slug)
        summary.staff.append((email, f"desk_admin of {slug}"))


async def _audit_intact(runtime: Runtime, slugs: list[str]) -> bool:
    from propdesk.audit.service import verify
    from propdesk.tenancy.context import TenantContext

    async with runtime.db.session() as session:
        ok = (await verify(session, "shared")).ok
    for slug in slugs:
        async with runtime.db.session(TenantContext(slug)) as session:
            ok = ok and (await verify(session, "tenant")).ok
    return ok


def _print_welcome(summary: DemoSummary, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    first_desk = summary.tenants[0] if summary.tenants else ""
    console.rule("[bold]Propdesk demo")
    console.print(f"API and OpenAPI docs   {base}/schema")
    console.print(f"Health / readiness     {base}/health   {base}/ready")
    for slug in summary.tenants:
        where = f"http://{summary.domains[slug]}:{port}  or " if slug in summary.domains else ""
        console.print(f"Desk {slug:<17} {where}header X-Propdesk-Tenant: {slug}")
    console.print(f"\nSign in (password [bold]{DEMO_PASSWORD}[/] for every demo user):")
    for email, role in summary.staff:
        console.print(f"  {email:<32} {role}")
    console.print(
        f"\nTry:  curl -c jar -H 'content-type: application/json' "
        f'-d \'{{"email":"{OPERATOR}","password":"{DEMO_PASSWORD}"}}\' {base}/api/auth/login'
        f"\n      curl -b jar {base}/api/tenants"
        f"\n      curl -b jar -H 'X-Propdesk-Tenant: {first_desk}'"
        f" {base}/api/audit"
        f"\n      curl -b jar -H 'X-Propdesk-Tenant: {first_desk}'"
        f" {base}/api/catalogue/products"
        f"\n      propdesk replay --product tenants/{first_desk}/challenges/<product>.json"
        " --phase <phase> --events <events.jsonl>"
    )
    console.print("\nPress Ctrl-C to stop.\n")


@click.command()
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--port", type=int, default=None, help="Web server port [PROPDESK_PORT, 8000].")
@click.option("--json", "as_json", is_flag=True, help="Print a one-line JSON summary at the end.")
def demo(duration: float | None, port: int | None, as_json: bool) -> None:
    """Run everything: embedded services, the demo desks and staff, the worker and the web app."""
    settings = get_settings()
    configure_logging("WARNING", settings.log_format)
    host, bind_port = settings.host, port if port is not None else settings.port
    summary = DemoSummary()

    async def action(runtime: Runtime) -> None:
        from propdesk.cli.serve import web_server
        from propdesk.worker.settings import run_worker

        with console.status("Preparing the demo desks..."):
            await _prepare(runtime, summary)
        server = web_server(runtime, host, bind_port)
        worker = asyncio.create_task(run_worker(runtime, handle_signals=False))
        web = asyncio.create_task(server.serve())
        while not server.started and not web.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
        if web.done():
            worker.cancel()
            await web
            raise click.ClickException(f"the web server could not start on {host}:{bind_port}")
        _print_welcome(summary, host, bind_port)
        if duration is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(web), timeout=duration)
            server.should_exit = True
        await web
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        summary.audit_intact = await _audit_intact(runtime, summary.tenants)

    run(action, require_migrated=False)
    console.print(
        f"Stopped. Desks: {', '.join(summary.tenants)}; audit trail "
        f"{'intact' if summary.audit_intact else 'BROKEN'}."
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "tenants": len(summary.tenants),
                    "staff": len(summary.staff),
                    "audit_intact": summary.audit_intact,
                }
            )
        )


def register(cli: click.Group) -> None:
    cli.add_command(demo)
