"""Running a command with the process's services and runtime."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console

from propdesk.embedded import running_services
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import get_settings

T = TypeVar("T")
console = Console(highlight=False, soft_wrap=True)


def run(action: Callable[[Runtime], Awaitable[T]], *, require_migrated: bool = True) -> T:
    """Start (or join) the services, open the runtime, run ``action`` and clean up."""
    settings = get_settings()
    with running_services(settings) as urls:

        async def main() -> T:
            async with open_runtime(
                settings,
                database_url=urls.database_url,
                redis_url=urls.redis_url,
                require_migrated=require_migrated,
            ) as runtime:
                return await action(runtime)

        return asyncio.run(main())


def cli_actor() -> str:
    """Who the audit log names for a command run from a shell."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"
