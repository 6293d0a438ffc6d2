"""The ``propdesk`` command line. Each module adds one command or group; plugins add theirs."""

from __future__ import annotations

import importlib
import sys

import click

from propdesk import __version__
from propdesk.errors import ConfigurationError, PropdeskError

#: Modules under propdesk.cli that define ``register(cli)``.
COMMAND_MODULES = (
    "db",
    "tenants",
    "plugins",
    "users",
    "audit",
    "catalog",
    "replay",
    "bench",
    "serve",
    "worker",
    "demo",
    "screenshots",
    "chaos",
)


@click.group()
@click.version_option(__version__, prog_name="propdesk")
def cli() -> None:
    """Propdesk: the CRM for proprietary trading firms.

    Configuration comes from PROPDESK_* environment variables; with no PROPDESK_DATABASE_URL
    or PROPDESK_REDIS_URL, embedded PostgreSQL and Redis run in PROPDESK_DATA_DIR (.propdesk/).
    """


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"propdesk.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"propdesk.cli.{name}":
                continue
            raise
        module.register(cli)


def main() -> None:
    _register_commands()
    try:
        from propdesk.plugins.manager import PluginHost
        from propdesk.settings import get_settings

        PluginHost.load(get_settings()).add_cli_commands(cli)
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigurationError as exc:
        click.secho(f"error: {exc.detail}", fg="red", err=True)
        sys.exit(2)
    except PropdeskError as exc:
        click.secho(f"error: {exc.detail}", fg="red", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
