"""The MT5 plugin's hooks: it registers the platform, its settings and its simulator; the
adapter acts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from propdesk import hookimpl
from propdesk.platforms.contract import PlatformAdapter
from propdesk_mt5.adapter import MT5Platform
from propdesk_mt5.settings import SETTINGS_SCHEMA

if TYPE_CHECKING:
    from propdesk.simulators import Simulator


@hookimpl
def propdesk_register_platforms() -> list[type[PlatformAdapter]]:
    return [MT5Platform]


@hookimpl
def propdesk_register_settings_schema() -> dict[str, Any]:
    return SETTINGS_SCHEMA


@hookimpl
def propdesk_register_cli_commands(cli: click.Group) -> None:
    from propdesk_mt5.cli import mt5

    cli.add_command(mt5)


@hookimpl
def propdesk_register_simulators() -> list[type[Simulator]]:
    # Imported here: only the commands that run simulators load them.
    from propdesk_mt5.simulator.served import MT5Simulator

    return [MT5Simulator]
