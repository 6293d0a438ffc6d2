"""A desk at work, in a real headless Chromium on the desk's own domain: its admin publishes a
product, a trader signs up and buys a challenge through the Stripe simulator's checkout, risk
sees a breach arrive in the live queue, and finance approves a payout until it is paid.

Everyone looking is a person in the browser, signing in through the real pages; the traders who
breach and earn a payout are the demo's simulated traders (over the API, trading on MT5's
simulated, running market).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Locator, Page, expect
from sqlalchemy import select

from propdesk.payouts.models import PayoutRow
from propdesk.testing.simulators import eventually

if TYPE_CHECKING:
    from browser.conftest import LiveDesk, Trading

pytestmark = pytest.mark.asyncio(loop_scope="session")
#: How long a page may take to show what the worker, the engine or a webhook did.
LIVE_MS = 60_000
#: Seconds the passer may take to pass, trade funded and ask for a payout (25 or so).
PAYOUT_DUE_SECONDS = 150.0


@pytest_asyncio.fixture(scope="module", loop_scope="session", autouse=True)
async def passer(live_desk: LiveDesk) -> Trading:
    """A trader passing the sprint and asking for a payout from the module's start: by the time
    finance looks, the payout waits for review (the other tests run meanwhile)."""
    return live_desk.start_trader("Pat Passer", "passer")


def title(page: Page) -> Locator:
    """The page's heading (level 1, shown)."""
    return page.get_by_role("heading", level=1)


def nav(page: Page, link: str) -> Locator:
    """A link of the page's main navigation."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=link)


def flash(page: Page) -> Locator:
    """What the page says a form just did."""
    return page.locator(".flash")


async def sign_in_staff(page: Page, staff: Any) -> None:
    await page.goto("/backoffice/login")
    await page.get_by_label("E-mail").fill(staff.email)
    await page.get_by_label("Password").fill(staff.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_the_desk_admin_creates_and_publishes_a_product(
    context: BrowserContext, live_desk: LiveDesk, make_staff: Any
) -> None:
    page = await context.new_page()
    await sign_in_staff(page, await make_staff(("desk_admin", live_desk.tenant.slug)))
    await nav(page, "Catalogue").click()
    await expect(page.locator("#product-sprint")).to_contain_text("published v1")

    new = page.locator("#new-product")
    await new.get_by_label("Code").fill("blitz")
    await new.get_by_label("Name").fill("Aurora Blitz")
    await new.get_by_label("Start from").select_option("sprint")
    await new.get_by_role("button", name="Create draft").click()
    await expect(flash(page)).to_have_text("Draft of blitz created.")

    await page.locator("#f-sizes-0-prices-USD").fill("49.00")  # the form's field of that pointer
    await page.locator("#save-form").click()
    await expect(flash(page)).to_have_text("Draft saved, no problems.")

    await page.locator("#review").click()
    await expect(title(page)).to_have_text("Publish blitz")
    await expect(_change(page, "/name")).to_contain_text("Aurora Blitz")
    await expect(_change(page, "/sizes")).to_contain_text('"USD": "49.00"')
    await page.locator("#publish").click()

    await expect(flash(page)).to_have_text("Published v1.")
    await expect(page.locator("#version-1")).to_contain_text("published")
    await page.goto("/challenges")  # on sale in the desk's portal
    await expect(page.locator("#product-blitz")).to_contain_text("49.00 USD")


def _change(page: Page, pointer: str) -> Locator:
    """The row of the publish page's diff at ``pointer``."""
    return page.locator("#diff tr").filter(has=page.get_by_text(pointer, exact=True))


async def test_a_trader_signs_up_and_buys_a_challenge_through_the_checkout(
    context: BrowserContext, live_desk: LiveDesk
) -> None:
    page = await context.new_page()
    await page.goto("/signup")
    await page.get_by_label("E-mail", exact=True).fill(f"zoe@{live_desk.tenant.slug}.example")
    await page.get_by_label("Password", exact=True).fill("correct horse battery")
    await page.get_by_label("Full name").fill("Zoe Newcomer")
    await page.get_by_label("Country").fill("NL")
    await page.get_by_label("I accept the terms").check()
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    await nav(page, "Buy a challenge").click()
    sprint = page.locator("#buy-sprint")
    await sprint.get_by_label("Account size").select_option("25k")
    await sprint.get_by_role("button", name="Buy").click()

    await expect(title(page)).to_have_text("Stripe simulator checkout")  # the PSP's own page
    await expect(page.locator("#total")).to_have_text("119.00 USD")
    await page.locator("#pay-button").click()

    await page.wait_for_url(f"{live_desk.base}/orders/*")  # back on the desk's domain
    status = page.locator("#order-status")  # follows the order by itself
    await expect(status).to_contain_text("Payment received", timeout=LIVE_MS)
    opened = status.get_by_role("link", name="Open the challenge")
    await expect(opened).to_be_visible(timeout=LIVE_MS)
    await expect(status).to_contain_text("MT5 login")
    await opened.click()
    await expect(title(page)).to_have_text("Aurora Sprint · 25k")


async def test_risk_sees_a_breach_arrive_without_reloading(
    context: BrowserContext, live_desk: LiveDesk, make_staff: Any
) -> None:
    page = await context.new_page()
    await sign_in_staff(page, await make_staff(("risk", live_desk.tenant.slug)))
    await nav(page, "Breaches").click()
    await expect(title(page)).to_have_text("Breaches and near-breaches")
    await page.evaluate("window.sameDocument = true")  # gone if the page loaded again

    breacher = live_desk.start_trader("Ben Breacher", "breacher")
    challenge = await eventually(breacher.challenge, "the breacher's challenge")
    row = page.locator(f"#breaches tr[id^='breach-{challenge}-']")
    await expect(row).to_be_visible(timeout=LIVE_MS)
    await expect(row).to_contain_text("Ben Breacher")
    await expect(row).to_contain_text("breached")
    assert await page.evaluate("window.sameDocument") is True


async def test_finance_approves_a_payout_and_it_is_paid(
    context: BrowserContext, live_desk: LiveDesk, make_staff: Any, passer: Trading
) -> None:
    async def due() -> int | None:
        passer.check()
        if passer.task.done() and not passer.trader.payouts_asked:
            raise AssertionError("the passer's challenge ended before a payout was due")
        return await _payout(live_desk, passer, "pending_review")

    payout = await eventually(
        due, "the passer's payout to wait for review", PAYOUT_DUE_SECONDS, interval=0.5
    )
    page = await context.new_page()
    await sign_in_staff(page, await make_staff(("finance", live_desk.tenant.slug)))
    await nav(page, "Payouts").click()
    queue = page.locator("#payout-queue")
    await expect(queue).to_contain_text("Pat Passer")
    await queue.get_by_role("link", name=f"#{payout}", exact=True).click()

    await expect(title(page)).to_have_text(f"Payout #{payout} pending review")
    await expect(page.get_by_text("Quoted again now, it holds")).to_be_visible()
    await page.locator("#approve").click()
    await expect(flash(page)).to_have_text("Approved.")
    badge = title(page).locator(".badge")
    await expect(badge).to_have_text(re.compile("^(approved|paying|paid)$"))

    # The worker pays it through the Stripe simulator's transfers; the page says so when opened.
    await eventually(lambda: _payout(live_desk, passer, "paid"), "the payout to be paid")
    await page.reload()
    await expect(badge).to_have_text("paid")
    await expect(page.get_by_text("Nothing left to do: paid with reference")).to_be_visible()


async def _payout(desk: LiveDesk, trading: Trading, status: str) -> int | None:
    async with desk.runtime.db.session(desk.tenant) as session:
        found = await session.scalar(
            select(PayoutRow.id).where(
                PayoutRow.trader_email == trading.trader.email, PayoutRow.status == status
            )
        )
    return found
