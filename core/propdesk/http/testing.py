"""Calling the app from async tests in the test's own event loop.

Use this instead of ``litestar.testing.AsyncTestClient``: Litestar 2.25's async client runs
the lifespan *and every request* through a blocking portal, i.e. in another thread with its
own event loop, so the runtime's asyncpg pool (bound to the test loop) breaks with "attached
to a different loop"::

    async with app_client(create_app(runtime)) as client:
        response = await client.get("/health")
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from litestar import Litestar

BASE_URL = "http://testserver.local"
SHUTDOWN_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[Litestar]:
    """Run ``app``'s lifespan in a task of this loop (so pytest fixtures may enter and exit it
    from different tasks: the lifespan's cancel scopes stay in one task)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold(), name="propdesk-test-lifespan")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        waiter.cancel()
        task.result()  # raises the startup error
    try:
        yield app
    finally:
        stop.set()
        # A hung shutdown should fail the test run, not stall it.
        done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_TIMEOUT)
        if not done:
            task.cancel()
            raise RuntimeError(f"the app did not shut down within {SHUTDOWN_TIMEOUT}s")
        task.result()


@contextlib.asynccontextmanager
async def app_client(
    app: Litestar, *, base_url: str = BASE_URL
) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` calling ``app`` in this loop, with its lifespan running."""
    async with running(app):
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
