"""The real-time engine inside ``propdesk worker``: started with the worker, stopped with it.

Every worker runs an engine; the shard lease lets one evaluate and keeps the others ready to
take over within seconds if it dies.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from propdesk.engine.runner import Engine
    from propdesk.runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass
class RunningEngine:
    engine: Engine
    stopping: asyncio.Event
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 10)
        except TimeoutError:
            self.task.cancel()
        except Exception:
            log.exception("engine.crashed")
        await self.engine.close()


async def start_engine(runtime: Runtime, shard: int = 0) -> RunningEngine:
    from propdesk.engine.runner import Engine, EngineConfig

    engine = Engine(runtime, EngineConfig(shard=shard, shards=runtime.settings.engine_shards))
    stopping = asyncio.Event()

    async def run() -> None:
        while not stopping.is_set():
            try:
                await engine.run(stopping)
            except Exception:
                log.exception("engine.failed")
            if not stopping.is_set():
                await asyncio.sleep(1)  # lost the lease or crashed: try again shortly

    return RunningEngine(engine, stopping, asyncio.create_task(run(), name="propdesk-engine"))
