"""The demo from start to stop: desks on their simulators, the worker and the web app in this
process, the crew at work, the feed in the terminal; then everything stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvicorn

from propdesk.demo import desks as demo_desks
from propdesk.demo.cast import cast_of
from propdesk.demo.crew import Crew
from propdesk.demo.progress import Feed, welcome
from propdesk.demo.staff import ACTOR, ensure_staff
from propdesk.demo.tally import COUNTED, Watcher
from propdesk.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.console import Console

    from propdesk.demo.desks import DemoDesk
    from propdesk.runtime import Runtime
    from propdesk.tenancy.manifest import TenantManifest


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    #: Seconds of trading before it stops by itself (None: until Ctrl-C).
    duration: float | None = None
    #: Stop as soon as every counted kind happened once.
    until_complete: bool = False
    #: Called with the web app's URL and the desks when the run would stop, while everything
    #: still runs (``propdesk screenshots`` browses the pages then).
    before_stop: Callable[[str, list[DemoDesk]], Awaitable[None]] | None = None


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    per_desk: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Seconds from the start of trading to the first of each counted kind.
    first: dict[str, float] = field(default_factory=dict)
    traders: int = 0
    audit_intact: bool = True

    def line(self) -> dict[str, Any]:
        """The counts first, then the rest (``--json``)."""
        more = {"tenants": len(self.per_desk), "traders": self.traders}
        return {
            **self.counts,
            **more,
            "audit_intact": self.audit_intact,
            "first_seconds": self.first,
        }


class _Server(uvicorn.Server):
    """uvicorn leaving signals alone: the demo stops everything, in order, itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_demo(runtime: Runtime, options: Options, console: Console, logs: str) -> Outcome:
    return await _Demo(runtime, options, console, logs).run()


class _Demo:
    def __init__(self, runtime: Runtime, options: Options, console: Console, logs: str) -> None:
        self.runtime, self.options, self.console, self.logs = runtime, options, console, logs
        # Simulators and webhooks call this address, whatever interface the server listens on.
        shown = "127.0.0.1" if options.host in ("0.0.0.0", "::") else options.host  # noqa: S104
        self.base_url = f"http://{shown}:{options.port}"
        self.stop, self.outcome = asyncio.Event(), Outcome()

    async def run(self) -> Outcome:
        try:  # bound first: a port in use stops the demo before anything started
            listening = socket.create_server((self.options.host, self.options.port))
        except OSError as exc:
            where = f"{self.options.host}:{self.options.port}"
            raise ConfigurationError(f"cannot serve on {where} ({exc}): try --port") from None
        with listening:
            return await self._run(listening)

    async def _run(self, listening: socket.socket) -> Outcome:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop.set)
        with self.console.status("Preparing the demo desks..."):
            manifests = await self._migrate_and_read()
            desks = demo_desks.plan_desks(self.runtime, manifests, self.base_url)
        try:
            with self.console.status("Starting the simulators and the desks..."):
                for desk in desks:
                    desk.start()
                staff = await self._apply(desks, manifests)
            await self._serve(desks, staff, listening)
        finally:
            for desk in desks:
                desk.stop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        return self.outcome

    async def _migrate_and_read(self) -> list[TenantManifest]:
        from propdesk.tenancy.provisioning import upgrade_all
        from propdesk.tenancy.service import load_manifests

        report = await upgrade_all(self.runtime.db, self.runtime.host)
        self.console.print(f"[green]✓[/] database migrated ({len(report.tenants)} desk schemas)")
        return load_manifests(self.runtime.settings.tenants_dir, self.runtime)

    async def _apply(
        self, desks: list[DemoDesk], manifests: list[TenantManifest]
    ) -> list[tuple[str, str]]:
        """Apply the manifests on the simulators, after clearing what an earlier demo left (its
        simulators, and so its accounts and payments, are gone); then the staff."""
        from propdesk.tenancy.provisioning import drop_tenant
        from propdesk.tenancy.service import apply_manifests, get_tenant

        runtime, earlier = self.runtime, []
        for desk in desks:
            tenant = await get_tenant(runtime, desk.slug)
            if tenant is not None and demo_desks.made_by_demo(dict(tenant.plugins)):
                await drop_tenant(runtime.db, desk.slug)
                earlier.append(desk.slug)
        if earlier:
            await runtime.queue.purge()
            self.console.print(
                f"[green]✓[/] the earlier demo's desks cleared ({', '.join(earlier)})"
            )
        on_sims = [desk.manifest(m) for desk, m in zip(desks, manifests, strict=True)]
        applied = await apply_manifests(runtime, on_sims, ACTOR)
        for changes, desk in zip(applied.tenants, desks, strict=True):
            names = ", ".join(s.display_name for s in desk.simulators)
            state = "created" if changes.created else "up to date"
            self.console.print(f"[green]✓[/] desk {desk.slug} {state}, on simulators of {names}")
        return await ensure_staff(runtime, [desk.slug for desk in desks])

    async def _serve(
        self, desks: list[DemoDesk], staff: list[tuple[str, str]], listening: socket.socket
    ) -> None:
        from propdesk.cli.serve import web_server
        from propdesk.worker.settings import run_worker

        runtime, options = self.runtime, self.options
        server = _Server(web_server(runtime, options.host, options.port).config)
        worker = asyncio.create_task(run_worker(runtime, handle_signals=False))
        web = asyncio.create_task(server.serve(sockets=[listening]))
        while not server.started and not web.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
        crew = Crew(runtime, desks, self.base_url)
        try:
            if web.done():
                where = f"{options.host}:{options.port}"
                raise ConfigurationError(f"the web server could not start on {where}")
            cast = {
                d.slug: [p.email(d.slug, 0) for p in cast_of(d.slug, d.products)] for d in desks
            }
            welcome(self.console, desks, self.base_url, staff, cast, self.logs)
            await self._watch(crew, web, lambda: _wind_down(crew, server, web, worker))
        finally:
            await _wind_down(crew, server, web, worker)
        self.outcome.audit_intact = await _audit_intact(runtime, [desk.slug for desk in desks])

    async def _watch(
        self, crew: Crew, web: asyncio.Task[None], wind_down: Callable[[], Awaitable[None]]
    ) -> None:
        """Let the crew work and show what happens, until it is time to stop; then stop the
        services (``wind_down``) and count what they finished."""
        options, started = self.options, time.monotonic()
        watcher = Watcher(self.runtime, [desk.slug for desk in crew.desks], started)
        crew.start()
        with Feed(self.console, started) as feed:
            while not self.stop.is_set() and not web.done():
                feed.show(await watcher.look(), watcher.line(), crew.traders)
                if options.until_complete and all(watcher.line().values()):
                    break
                left = options.duration - (time.monotonic() - started) if options.duration else 1
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), min(left, 1.0))
            if options.before_stop is not None and not self.stop.is_set():
                await options.before_stop(self.base_url, crew.desks)
            await wind_down()
            feed.show(await watcher.look(), watcher.line(), crew.traders)
        outcome = self.outcome
        outcome.counts, outcome.first, outcome.traders = watcher.line(), watcher.first, crew.traders
        outcome.per_desk = {desk.slug: watcher.line(desk.slug) for desk in crew.desks}


async def _wind_down(
    crew: Crew, server: uvicorn.Server, web: asyncio.Task[None], worker: asyncio.Task[Any]
) -> None:
    """The traders and finance first, then the web app, then the worker (harmless twice)."""
    await crew.stop()
    server.should_exit = True
    await asyncio.gather(web, return_exceptions=True)
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)


async def _audit_intact(runtime: Runtime, slugs: list[str]) -> bool:
    from propdesk.audit.service import verify
    from propdesk.tenancy.context import TenantContext

    async with runtime.db.session() as session:
        ok = (await verify(session, "shared")).ok
    for slug in slugs:
        async with runtime.db.session(TenantContext(slug)) as session:
            ok = ok and (await verify(session, "tenant")).ok
    return ok
