"""``propdesk screenshots``: the main pages, with the demo's data, as PNGs in ``docs/screenshots``.

It runs the demo until a purchase, a breach, a pass and a payout have happened (so every page
has something to show), then browses the first desk in Chromium as each kind of user would:
a visitor, a trader buying through the Stripe simulator's checkout, an evaluated and a funded
trader, the desk's admin, risk and finance staff, and leadership. Phone-sized shots follow for
the pages people open on the move.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select

from propdesk.demo.staff import DEMO_PASSWORD, LEADERSHIP, desk_email
from propdesk.lifecycle.models import ChallengeRow
from propdesk.payouts.models import PayoutRow
from propdesk.tenancy.context import TenantContext
from propdesk.testing.browser import chromium
from propdesk.traders.models import Trader

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

    from propdesk.demo.desks import DemoDesk
    from propdesk.runtime import Runtime

LAPTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
#: How long a page may take to settle (its charts drawn, its live parts loaded).
SETTLE_MS = 1_500


@dataclass(frozen=True)
class Cast:
    """Who the screenshots show: a trader in an evaluation, a funded one, and a payout."""

    evaluated: str
    evaluated_challenge: int
    funded: str
    funded_challenge: int
    funded_trader: int
    payout: int


async def _cast(runtime: Runtime, slug: str) -> Cast:
    async with runtime.db.session(TenantContext(slug)) as session:
        payout = await session.scalar(select(PayoutRow).order_by(PayoutRow.id.desc()).limit(1))
        if payout is None:
            raise RuntimeError(f"the demo made no payout on {slug}: nothing to show")
        funded = await session.get(ChallengeRow, payout.challenge_id)
        evaluated = await session.scalar(
            select(ChallengeRow)
            .where(ChallengeRow.status == "active", ChallengeRow.phase == 0)
            .order_by(ChallengeRow.id)
            .limit(1)
        ) or await session.scalar(select(ChallengeRow).order_by(ChallengeRow.id).limit(1))
        assert funded is not None and evaluated is not None
        trader = await session.scalar(select(Trader).where(Trader.email == funded.trader_email))
        assert trader is not None
        return Cast(
            evaluated.trader_email,
            int(evaluated.id),
            funded.trader_email,
            int(funded.id),
            int(trader.id),
            int(payout.id),
        )


class Camera:
    """Saves ``<name>.png`` of pages into ``out``, and says which it took."""

    def __init__(self, browser: Browser, out: Path, say: Callable[[str], None]) -> None:
        self.browser, self.out, self.say = browser, out, say
        self.taken: list[str] = []

    async def context(self, base: str, viewport: ViewportSize = LAPTOP) -> BrowserContext:
        return await self.browser.new_context(base_url=base, viewport=viewport)

    async def phone(self, signed_in: BrowserContext, base: str) -> BrowserContext:
        """A phone-sized context signed in as ``signed_in`` is."""
        state = await signed_in.storage_state()
        return await self.browser.new_context(base_url=base, viewport=PHONE, storage_state=state)

    async def shoot(self, page: Page, name: str, path: str | None = None) -> None:
        if path is not None:
            await page.goto(path)
        await page.wait_for_load_state("networkidle")
        await page.wait_for_timeout(SETTLE_MS)
        await page.screenshot(path=str(self.out / f"{name}.png"), full_page=True)
        self.taken.append(name)
        self.say(f"{name}.png  {urlsplit(page.url).path}")


async def _sign_in(page: Page, path: str, email: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto(path)
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.locator("form button[type=submit]").last.click()
    await page.wait_for_load_state("networkidle")


async def _visitor_and_buyer(camera: Camera, base: str) -> None:
    context = await camera.context(base)
    page = await context.new_page()
    await camera.shoot(page, "portal-landing", "/")
    await camera.shoot(page, "portal-challenges", "/challenges")
    await camera.shoot(page, "portal-rulebook", "/challenges/sprint/rules")
    await camera.shoot(page, "portal-signup", "/signup")
    await page.get_by_label("E-mail", exact=True).fill("zoe@traders.screenshots.demo")
    await page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_label("Full name", exact=True).fill("Zoe Newcomer")
    await page.get_by_label("Country", exact=True).fill("NL")
    await page.get_by_label("I accept the terms").check()
    await page.get_by_role("button", name="Sign up").click()
    await page.wait_for_load_state("networkidle")
    await page.goto("/challenges")
    await page.locator("form[action='/challenges/sprint/buy'] button[type=submit]").first.click()
    await page.wait_for_url("**/checkout/**")
    await camera.shoot(page, "stripe-checkout")
    await page.locator("#pay-button").click()
    await page.wait_for_url("**/orders/**")
    await camera.shoot(page, "portal-order")
    await context.close()


async def _traders(camera: Camera, base: str, cast: Cast) -> None:
    context = await camera.context(base)
    page = await context.new_page()
    await _sign_in(page, "/login", cast.evaluated)
    await camera.shoot(page, "portal-dashboard", "/")
    await camera.shoot(page, "portal-challenge", f"/challenges/{cast.evaluated_challenge}")
    await camera.shoot(page, "portal-account", "/account")
    phone = await camera.phone(context, base)
    await camera.shoot(await phone.new_page(), "phone-portal-dashboard", f"{base}/")
    await phone.close()
    await context.close()
    context = await camera.context(base)
    page = await context.new_page()
    await _sign_in(page, "/login", cast.funded)
    await camera.shoot(page, "portal-funded-challenge", f"/challenges/{cast.funded_challenge}")
    await camera.shoot(page, "portal-payouts", "/payouts")
    await context.close()


async def _back_office(camera: Camera, base: str, slug: str, cast: Cast) -> None:
    context = await camera.context(base)
    page = await context.new_page()
    await _sign_in(page, "/backoffice/login", desk_email("desk_admin", slug))
    await camera.shoot(page, "backoffice-desk", "/backoffice/")
    await camera.shoot(page, "backoffice-traders", "/backoffice/traders")
    await camera.shoot(page, "backoffice-trader", f"/backoffice/traders/{cast.funded_trader}")
    await camera.shoot(page, "backoffice-catalogue", "/backoffice/catalogue")
    await page.goto("/backoffice/catalogue/sprint/draft")
    await page.locator("#f-name").fill("Sprint Challenge (winter edition)")
    await page.locator("#save-form").click()
    await page.wait_for_load_state("networkidle")
    await camera.shoot(page, "backoffice-catalogue-editor")
    await camera.shoot(page, "backoffice-catalogue-publish", "/backoffice/catalogue/sprint/publish")
    await camera.shoot(page, "backoffice-risk", "/backoffice/risk")
    await camera.shoot(page, "backoffice-plugins", "/backoffice/plugins")
    await camera.shoot(page, "backoffice-staff", "/backoffice/staff")
    await context.close()
    context = await camera.context(base)
    page = await context.new_page()
    await _sign_in(page, "/backoffice/login", desk_email("finance", slug))
    await camera.shoot(page, "backoffice-payouts", "/backoffice/payouts?status=")
    await camera.shoot(page, "backoffice-payout", f"/backoffice/payouts/{cast.payout}")
    phone = await camera.phone(context, base)
    phone_page = await phone.new_page()
    await camera.shoot(phone_page, "phone-backoffice-payouts", f"{base}/backoffice/payouts")
    await phone.close()
    await context.close()


async def _leadership(camera: Camera, base: str) -> None:
    context = await camera.context(base)
    page = await context.new_page()
    await _sign_in(page, "/backoffice/login?next=/leadership", LEADERSHIP)
    await camera.shoot(page, "leadership", "/leadership")
    await context.close()


def photographer(
    runtime: Runtime, out: Path, say: Callable[[str], None]
) -> Callable[[str, list[DemoDesk]], Awaitable[None]]:
    """The demo's ``before_stop``: browse and shoot the first desk's pages into ``out`` (an
    existing folder)."""

    async def take(base_url: str, desks: list[DemoDesk]) -> None:
        desk = desks[0]
        port = urlsplit(base_url).port
        base = f"http://{desk.domain}:{port}" if desk.domain else base_url
        cast = await _cast(runtime, desk.slug)
        async with chromium() as browser:
            camera = Camera(browser, out, say)
            await _visitor_and_buyer(camera, base)
            await _traders(camera, base, cast)
            await _back_office(camera, base, desk.slug, cast)
            await _leadership(camera, base_url)
        say(f"{len(camera.taken)} screenshots in {out}")

    return take


__all__ = ["photographer"]
