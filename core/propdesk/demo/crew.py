"""The demo's people at work: traders arriving on every desk, and each desk's finance."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import structlog

from propdesk.demo.cast import arrivals
from propdesk.demo.finance import approve_payouts
from propdesk.demo.traders import Trader

if TYPE_CHECKING:
    from propdesk.demo.desks import DemoDesk
    from propdesk.runtime import Runtime

log = structlog.get_logger(__name__)

#: The cast arrives a second apart; after them, another trader every so often.
CAST_ARRIVAL_SECONDS, LATER_ARRIVAL_SECONDS = 1.0, 12.0
#: Traders per desk, at most (the machine runs all of them).
MAX_TRADERS = 24


class Crew:
    def __init__(self, runtime: Runtime, desks: list[DemoDesk], base_url: str) -> None:
        self.runtime, self.desks, self.base_url = runtime, desks, base_url
        self.traders = 0
        #: People who stopped on an error (logged).
        self.problems = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        for desk in self.desks:
            self._spawn(approve_payouts(self.base_url, desk.slug), f"finance of {desk.slug}")
            self._spawn(self._arrive(desk), f"arrivals at {desk.slug}")

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _arrive(self, desk: DemoDesk) -> None:
        for n, (persona, round_) in enumerate(arrivals(desk.slug, desk.products)):
            if n >= MAX_TRADERS:
                return
            trader = Trader(self.runtime, desk, self.base_url, persona, round_)
            self._spawn(trader.run(), f"trader {trader.email}")
            self.traders += 1
            await asyncio.sleep(LATER_ARRIVAL_SECONDS if round_ else CAST_ARRIVAL_SECONDS)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self.problems += 1
            log.warning("demo.stopped_on_error", who=task.get_name(), error=repr(error))
