"""A live desk for the browser tests, built with the demo's machinery: a copy of Aurora FX under a
slug of its own, reached by its own ``.localhost`` domain, on simulators of its own (MT5 with a
running market, Stripe, Sumsub), with the web app and the worker running in the test loop; and
Debian's Chromium, headless, to browse it.

Without Chromium the tests are skipped, except in CI (``CI`` set), where they fail: a CI that
skips its browser tests passes without testing them. A failed test leaves a screenshot of each
of its pages (the failure report says where).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import expect

from propdesk.demo.cast import Persona
from propdesk.demo.desks import DemoDesk, plan_desks
from propdesk.demo.traders import Trader
from propdesk.embedded import ServiceUrls
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import read_manifest
from propdesk.tenancy.service import apply_manifests, get_tenant, set_status
from propdesk.testing.browser import chromium, chromium_path
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import serving_app

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tenants" / "aurora_fx"
#: The market of the demo's own Aurora FX, whose lifecycle ``tests/cli/test_demo.py`` proves.
MARKET_SEED = zlib.crc32(b"aurora_fx") % 10_000
#: How long an action may take (a click, a page load) before a test fails.
ACTION_MS = 15_000
#: Where a test's screenshots go, and whether it failed (for the screenshots).
SCREENSHOTS = pytest.StashKey[Path]()
FAILED = pytest.StashKey[bool]()

expect.set_options(timeout=ACTION_MS)  # Playwright's 5 s is short for a CI running everything


@dataclass
class Trading:
    """One of the demo's simulated traders at work (``Trader.run``: join, buy and pay, pass the
    identity check, then trade the challenge in a profile until it ends)."""

    trader: Trader
    task: asyncio.Task[None]

    def check(self) -> None:
        """Raise what stopped the trader, if something did."""
        if self.task.done() and not self.task.cancelled():
            self.task.result()

    async def challenge(self) -> int | None:
        """The trader's challenge, once paid (for ``eventually``)."""
        self.check()
        return self.trader.challenge_id


@dataclass
class LiveDesk:
    """The desk the tests browse, and the demo's simulators it runs on."""

    runtime: Runtime
    tenant: TenantContext
    demo: DemoDesk
    #: The web app on the desk's domain (what the browser opens) and on its address (the API).
    base: str
    api: str
    traders: list[Trading] = field(default_factory=list)

    def start_trader(self, name: str, profile: str, size: str = "10k") -> Trading:
        """A trader buying a ``size`` sprint and trading it in one of the MT5 simulator's
        profiles (``breacher``, ``passer``...), funded too; stopped with the desk. (A breacher's
        wild swings may pass the sprint's 1% target first: funded, they breach all the same.)"""
        persona = Persona(name, "sprint", size, profile, funded=profile)
        trader = Trader(self.runtime, self.demo, self.api, persona, 0)
        trading = Trading(trader, asyncio.create_task(trader.run(), name=name))
        self.traders.append(trading)
        return trading


def need_chromium() -> None:
    """Skip without Chromium; fail in CI, where a skipped browser test would pass unnoticed."""
    path = chromium_path()
    if path is not None and shutil.which(path):
        return
    where = f"no Chromium at {path!r}" if path else "no Chromium"
    problem = (
        f"{where}: install Debian's package (apt-get install chromium) or set PROPDESK_CHROMIUM"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{problem}; CI runs the browser tests, they may not be skipped")
    pytest.skip(problem)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    need_chromium()
    async with chromium() as launched:
        yield launched


def _desk_folder(parent: Path, slug: str) -> Path:
    """Aurora FX's manifest and products under ``slug``, serving ``<slug>.localhost`` only."""
    folder = parent / slug
    shutil.copytree(TEMPLATE, folder)
    manifest = folder / "tenant.toml"
    domain = f"{slug.replace('_', '-')}.localhost"
    text = re.sub(r"^domains = .*$", f'domains = ["{domain}"]', manifest.read_text(), flags=re.M)
    manifest.write_text(text)
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desk_runtime(
    propdesk_runtime: Runtime,
    propdesk_settings: Settings,
    propdesk_urls: ServiceUrls,
    propdesk_database_url: str,
) -> AsyncIterator[Runtime]:
    """A runtime on the session's database with a job queue of its own: the worker below
    serves what this desk queues, and nothing other tests left behind."""
    settings = propdesk_settings.model_copy(update={"queue_name": unique_name("browser_queue")})
    async with open_runtime(
        settings, database_url=propdesk_database_url, redis_url=propdesk_urls.redis_url
    ) as runtime:
        yield runtime


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live_desk(
    desk_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveDesk]:
    need_chromium()  # nothing to start for tests that will not run
    from propdesk.worker.settings import run_worker

    runtime, slug = desk_runtime, unique_name("browser")
    manifest = read_manifest(_desk_folder(tmp_path_factory.mktemp("desks"), slug), runtime.host)
    environ, traders, tasks = set(os.environ), list[Trading](), list[asyncio.Task[Any]]()
    async with serving_app(runtime) as api:
        (demo,) = plan_desks(runtime, [manifest], api)
        try:
            await asyncio.to_thread(demo.start)
            mt5: Any = demo.platforms["mt5"]  # the same prices on every run, not the slug's
            await mt5.running.control.market(seed=MARKET_SEED)
            tasks.append(asyncio.create_task(run_worker(runtime, handle_signals=False)))
            await apply_manifests(runtime, [demo.manifest(manifest)], "test")
            tenant = await get_tenant(runtime, slug)
            assert tenant is not None
            base = f"http://{manifest.domains[0]}:{urlsplit(api).port}"
            yield LiveDesk(runtime, tenant, demo, base, api, traders)
        finally:
            tasks[:0] = [trading.task for trading in traders]  # the traders before the worker
            for task in tasks:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if await get_tenant(runtime, slug) is not None:
                # Later tests' outbox sweeps serve every active desk of the shared database.
                await set_status(runtime, slug, "suspended", "test", "the browser tests ended")
            await asyncio.to_thread(demo.stop)
            for name in set(os.environ) - environ:  # the simulators' secrets
                del os.environ[name]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    folder = item.stash.get(SCREENSHOTS, None)
    if report.when == "call" and report.failed and folder is not None:
        item.stash[FAILED] = True
        report.sections.append(("browser", f"screenshots of its pages in {folder}"))
    return report


@pytest_asyncio.fixture(loop_scope="session")
async def context(
    request: pytest.FixtureRequest, browser: Browser, live_desk: LiveDesk, tmp_path: Path
) -> AsyncIterator[BrowserContext]:
    """A browser profile of its own (no cookies) on the desk's domain, for one test."""
    made = await browser.new_context(base_url=live_desk.base)
    made.set_default_timeout(ACTION_MS)
    request.node.stash[SCREENSHOTS] = tmp_path
    try:
        yield made
    finally:
        if request.node.stash.get(FAILED, False):
            for n, page in enumerate(made.pages):
                await page.screenshot(path=tmp_path / f"page-{n}.png", full_page=True)
        await made.close()
