"""A ``propdesk worker`` for the crash test, run as its own process and killed with SIGKILL.

It is the real worker (arq, outbox dispatch, the engine) with one test platform registered: a
recording platform that writes every command to the file named by ``CRASH_COMMANDS``, so the
test can count the actions taken across the killed worker and its successor.
"""

from __future__ import annotations

import asyncio
import json
import os
import types
from decimal import Decimal
from typing import Any

from propdesk.plugins.markers import hookimpl
from propdesk.runtime import open_runtime
from propdesk.settings import get_settings
from propdesk.testing.platform import SETTINGS_SCHEMA, RecordingPlatform
from propdesk.worker.settings import run_worker


class LoggedPlatform(RecordingPlatform):
    """Accounts appear on first use; every trading-rights command is appended to a file."""

    def _log(self, command: str, login: str) -> None:
        with open(os.environ["CRASH_COMMANDS"], "a") as out:
            out.write(json.dumps({"command": command, "login": login, "pid": os.getpid()}) + "\n")
        if login not in self._platform.accounts:
            self.bulk_open([login], Decimal(100000))

    async def disable_trading(self, login: str) -> None:
        self._log("disable_trading", login)
        await super().disable_trading(login)

    async def close_all_positions(self, login: str) -> tuple[str, ...]:
        self._log("close_all_positions", login)
        return await super().close_all_positions(login)


def plugin() -> types.ModuleType:
    module = types.ModuleType("crash_test_platform")

    def propdesk_register_platforms() -> list[Any]:
        return [LoggedPlatform]

    def propdesk_register_settings_schema() -> dict[str, Any]:
        return SETTINGS_SCHEMA

    for hook in (propdesk_register_platforms, propdesk_register_settings_schema):
        setattr(module, hook.__name__, hookimpl(hook))
    return module


async def main() -> None:
    settings = get_settings()
    async with open_runtime(
        settings,
        database_url=os.environ["PROPDESK_DATABASE_URL"],
        redis_url=os.environ["PROPDESK_REDIS_URL"],
        extra_plugins=[("recording", plugin())],
    ) as runtime:
        await run_worker(runtime)


if __name__ == "__main__":
    asyncio.run(main())
