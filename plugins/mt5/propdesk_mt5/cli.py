"""``propdesk mt5``: check a desk's connection to its MT5 server."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import click


@click.group()
def mt5() -> None:
    """MetaTrader 5: the desks' manager connections."""


@mt5.command()
@click.argument("tenant")
def check(tenant: str) -> None:
    """Log in to TENANT's MT5 server with its settings and show what the manager can see.

    Exits 1 when the server cannot be reached or refuses the manager."""
    from propdesk.cli.common import console, run
    from propdesk.plugins.desk import desk_platform
    from propdesk.runtime import Runtime
    from propdesk.tenancy.service import get_tenant
    from propdesk_mt5.adapter import MT5Platform
    from propdesk_mt5.errors import MT5Error

    async def action(runtime: Runtime) -> list[str]:
        desk = await get_tenant(runtime, tenant)
        if desk is None:
            raise click.ClickException(f"no tenant {tenant!r}")
        adapter = desk_platform(runtime.host, desk, MT5Platform.code)
        assert isinstance(adapter, MT5Platform)
        client = adapter.client()
        lines = [f"server {adapter.settings.server}, manager {adapter.settings.manager_login}"]
        try:
            began = time.monotonic()
            server = await client.server_time()
            lines.append(f"logged in ({(time.monotonic() - began) * 1000:.0f} ms)")
            clock = await client.clock()
            offset = clock.offset(datetime.now(UTC))
            lines.append(f"server time {server} ({clock.zone}, UTC{_hours(offset)})")
            for name, group in sorted(adapter.settings.groups.items()):
                logins = await client.user_logins(group)
                lines.append(f"group {group} (for {name}): {len(logins)} accounts")
        except MT5Error as exc:
            hint = " (check the manager login and its API password)" if exc.code == 1001 else ""
            lines.append(f"[red]refused: {exc}{hint}[/]")
            for line in lines:
                console.print(line)
            sys.exit(1)
        finally:
            await adapter.close()
        return lines

    for line in run(action):
        console.print(line)


def _hours(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    return f"{sign}{abs(seconds) // 3600:02d}:{abs(seconds) % 3600 // 60:02d}"
