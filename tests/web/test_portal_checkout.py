"""A trader's first purchase through the portal's plain forms, against the Stripe, MT5 and
Sumsub simulators: sign up → Buy → the Stripe simulator's hosted checkout → Pay → back on the
order's page, which follows the webhook's payment and the account's provisioning on MT5 until
the challenge is active → the identity check starts on the Sumsub simulator's WebSDK page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from portal_desks import form_key

from propdesk.catalogue.service import publish_files
from propdesk.outbox.service import dispatch, undispatched
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.testing.pytest_plugin import MakeTenant
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import eventually, serving_app
from propdesk_kyc_sumsub.simulator import SimulatorConfig as SumsubConfig
from propdesk_kyc_sumsub.simulator import running_simulator as sumsub_simulator
from propdesk_mt5.simulator import SimulatorConfig as MT5Config
from propdesk_mt5.simulator import running_simulator as mt5_simulator
from propdesk_psp_stripe.simulator import running_simulator as stripe_simulator

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = "tenants/aurora_fx/challenges/two-step.json"
PHASE1 = "demo\\aurora\\two-step\\phase1"
BUY = "/challenges/two-step/buy"


@pytest.fixture
def sims() -> Any:
    with (
        mt5_simulator(MT5Config(groups=(PHASE1,))) as mt5,
        stripe_simulator() as stripe,
        sumsub_simulator(SumsubConfig()) as sumsub,
    ):
        yield mt5, stripe, sumsub


@pytest.fixture
async def desk(
    propdesk_runtime: Runtime, make_tenant: MakeTenant, sims: Any, monkeypatch: pytest.MonkeyPatch
) -> TenantContext:
    mt5, stripe, sumsub = sims
    for name, value in {
        "PORTAL_MT5": mt5.manager[1],
        "PORTAL_STRIPE_KEY": stripe.secret_key,
        "PORTAL_STRIPE_HOOK": stripe.webhook_secret,
        "PORTAL_SUMSUB_TOKEN": sumsub.app_token,
        "PORTAL_SUMSUB_SECRET": sumsub.secret_key,
        "PORTAL_SUMSUB_HOOK": sumsub.webhook_secret,
    }.items():
        monkeypatch.setenv(name, value)
    plugins = {
        "mt5": {
            "server": mt5.url,
            "manager_login": mt5.manager[0],
            "password": {"env": "PORTAL_MT5"},
            "server_timezone": "+02:00",
            "server_name": "Portal-Demo",
        },
        "psp_stripe": {
            "api_key": {"env": "PORTAL_STRIPE_KEY"},
            "webhook_secret": {"env": "PORTAL_STRIPE_HOOK"},
            "api_base": stripe.url,
        },
        "kyc_sumsub": {
            "base_url": sumsub.url,
            "app_token": {"env": "PORTAL_SUMSUB_TOKEN"},
            "secret_key": {"env": "PORTAL_SUMSUB_SECRET"},
            "webhook_secret": {"env": "PORTAL_SUMSUB_HOOK"},
            "websdk_url": f"{sumsub.url}/websdk?accessToken={{token}}",
        },
        "propdesk.engine": {"poll_seconds": 0},
    }
    tenant = await make_tenant(unique_name("portal_e2e").lower()[:30], plugins=plugins)
    await publish_files(propdesk_runtime, tenant, [ROOT / PRODUCT], actor="test")
    return tenant


async def deliver_outbox(runtime: Runtime, tenant: TenantContext) -> None:
    """What the worker does: dispatch every event not dispatched yet."""
    for event_id in await undispatched(runtime, tenant, min_age=timedelta(0)):
        await dispatch(runtime, tenant, event_id)


async def test_sign_up_buy_pay_on_the_checkout_and_come_back_to_an_active_challenge(
    propdesk_runtime: Runtime, desk: TenantContext, sims: Any
) -> None:
    runtime, (mt5, stripe, sumsub) = propdesk_runtime, sims
    async with (
        serving_app(runtime) as base,
        httpx.AsyncClient(base_url=base, headers={"X-Propdesk-Tenant": desk.slug}) as browser,
    ):
        await stripe.control.add_endpoint(f"{base}/api/payments/stripe/webhook/{desk.slug}")
        origin = {"Origin": base}
        signup = {
            "email": "ana@traders.example",
            "password": "correct horse battery",
            "name": "Ana Trader",
            "country": "DE",
            "accept_terms": "on",
        }
        joined = await browser.post("/signup", data=signup, headers=origin)
        assert joined.status_code == 303 and "propdesk_trader" in browser.cookies

        shop = await browser.get("/challenges")
        assert "Aurora Two-Step Challenge" in shop.text and ">Buy</button>" in shop.text
        form = {
            "idempotency_key": form_key(shop.text, BUY),
            "size": "100k",
            "currency": "USD",
            "provider": "stripe",
        }
        bought = await browser.post(BUY, data=form, headers=origin)
        assert bought.status_code == 303
        checkout = bought.headers["location"]
        assert checkout.startswith(f"{stripe.url}/checkout/cs_")

        # The trader pays on the simulator's hosted page and is sent back to the order.
        page = await browser.get(checkout)
        assert page.status_code == 200 and "pay-button" in page.text
        paid = await browser.post(f"{checkout}/pay", data={"outcome": "succeeded"})
        assert paid.status_code == 303
        back = paid.headers["location"]
        assert back.startswith(f"{base}/orders/")
        order = await browser.get(back)
        assert order.status_code == 200 and "Where it stands" in order.text
        status = back.removeprefix(base) + "/status"

        async def shows(words: str) -> str | None:
            part = (await browser.get(status)).text
            return part if words in part else None

        await stripe.control.wait_idle()
        watching = await eventually(lambda: shows("Payment received"), "the payment")
        assert "Account being set up" in watching and "hx-get" in watching

        # The worker provisions the account on MT5; the page then stops watching.
        await deliver_outbox(runtime, desk)
        ready = await eventually(lambda: shows("Open the challenge"), "the account")
        [login] = await mt5.control.accounts()
        assert f"MT5 login {login}" in ready and "Portal-Demo" in ready
        assert "hx-get" not in ready

        dashboard = await browser.get("/")
        assert "Aurora Two-Step Challenge · 100k" in dashboard.text
        assert f"<code>{login}</code>" in dashboard.text

        # The identity check starts on the provider's page.
        account = await browser.get("/account")
        assert "Start identity check" in account.text
        kyc = await browser.post("/account/kyc", data={"provider": "sumsub"}, headers=origin)
        assert kyc.status_code == 303
        assert kyc.headers["location"].startswith(f"{sumsub.url}/websdk?accessToken=")
        websdk = await browser.get(kyc.headers["location"])
        assert websdk.status_code == 200
