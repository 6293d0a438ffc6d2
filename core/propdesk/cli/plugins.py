"""``propdesk plugins list``: what is installed, from which distribution, with which hooks."""

from __future__ import annotations

import json

import click
from rich.table import Table

from propdesk.cli.common import console
from propdesk.plugins.manager import PluginHost
from propdesk.settings import get_settings


@click.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
def list_(as_json: bool) -> None:
    """Each plugin, its distribution and version, and the hooks it implements."""
    settings = get_settings()
    host = PluginHost.load(settings)
    infos = host.plugins_info()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": i.name,
                        "distribution": i.distribution,
                        "version": i.version,
                        "hooks": list(i.hooks),
                        "core": i.core,
                    }
                    for i in infos
                ]
            )
        )
        return
    table = Table("plugin", "distribution", "version", "hooks")
    for info in infos:
        name = f"{info.name} (core)" if info.core else info.name
        table.add_row(name, info.distribution, info.version, "\n".join(info.hooks))
    console.print(table)
    if settings.disabled_plugins:
        console.print(
            f"Disabled by PROPDESK_DISABLED_PLUGINS: {', '.join(settings.disabled_plugins)}"
        )


def register(cli: click.Group) -> None:
    cli.add_command(plugins)
