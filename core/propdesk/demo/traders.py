"""A simulated trader going the way a real one goes, over the desk's HTTP API: register, buy
and pay on the PSP's checkout, pass KYC on the provider's simulator, trade every account the
challenge gets in the persona's profile, and, funded, ask for a payout whenever the quote says
one is due. Breaches and passes are the engine's business, in the worker.

One step at a time, as a person goes: a trader's identity check racing their payment can
deadlock in the database. A failed request is tried again, as a person would; every call that
moves something carries an ``Idempotency-Key`` or is idempotent by nature.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx

from propdesk.demo.staff import DEMO_PASSWORD
from propdesk.lifecycle.machine import ACTIVE, FUNDED, TERMINAL
from propdesk.lifecycle.models import ChallengeRow
from propdesk.tenancy.context import TenantContext

if TYPE_CHECKING:
    from propdesk.demo.cast import Persona
    from propdesk.demo.desks import DemoDesk
    from propdesk.runtime import Runtime

POLL_SECONDS = 1.0
#: After a payout is paid, a funded trader waits this long before asking for the next.
PAYOUT_PAUSE_SECONDS = 30.0
#: Payouts that went as far as they go.
_SETTLED = frozenset({"paid", "rejected", "cancelled"})
TRIES = 4


async def call(web: httpx.AsyncClient, method: str, url: str, **options: Any) -> httpx.Response:
    """The request, tried again a few times on a server error or a dropped connection."""
    for attempt in range(TRIES):
        try:
            response = await web.request(method, url, **options)
        except httpx.TransportError:
            if attempt == TRIES - 1:
                raise
        else:
            if response.status_code < 500 or attempt == TRIES - 1:
                return response
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("unreachable")


def checked(response: httpx.Response) -> httpx.Response:
    """``response`` if it succeeded; an error saying what the desk answered otherwise."""
    if response.is_success:
        return response
    raise RuntimeError(
        f"{response.request.method} {response.request.url.path}: {response.status_code} "
        f"{response.text[:300]}"
    )


class Trader:
    def __init__(
        self, runtime: Runtime, desk: DemoDesk, base_url: str, persona: Persona, round_: int
    ) -> None:
        self.runtime, self.desk, self.base_url, self.persona = runtime, desk, base_url, persona
        self.email, self.name = persona.email(desk.slug, round_), persona.full_name(round_)
        self.web = httpx.AsyncClient(
            base_url=base_url, headers={"X-Propdesk-Tenant": desk.slug}, timeout=30
        )
        self.challenge_id: int | None = None
        self.payout: int | None = None
        self.payouts_asked = 0
        self.next_payout = 0.0
        self.destination: dict[str, Any] | None = None

    async def run(self) -> None:
        async with self.web:
            await self._join()
            await self._buy()
            await self._verify()
            await self._trade()

    async def _do(self, method: str, url: str, **options: Any) -> Any:
        """The decoded answer of a request that must succeed."""
        return checked(await call(self.web, method, url, **options)).json()

    async def _join(self) -> None:
        body = {"email": self.email, "password": DEMO_PASSWORD, "name": self.name}
        details = {"country": self.persona.country, "accept_terms": True}
        joined = await call(self.web, "POST", "/api/traders", json={**body, **details})
        if joined.status_code == 409:  # registered already (a retried registration)
            joined = await call(self.web, "POST", "/api/traders/sessions", json=body)
        self.web.cookies.clear()  # the bearer token says who this is
        self.web.headers["Authorization"] = f"Bearer {checked(joined).json()['token']}"

    async def _buy(self) -> None:
        persona, desk = self.persona, self.desk
        portal = f"{self.base_url}/"
        order = {
            "product_code": persona.product,
            "size": persona.size,
            "currency": desk.products[persona.product]["currency"],
            "provider": desk.payments.payment_provider,
            "success_url": portal,
            "cancel_url": portal,
        }
        key = {"Idempotency-Key": f"demo-buy-{self.email}"}
        placed = await self._do("POST", "/api/orders", json=order, headers=key)
        if placed.get("checkout_url"):
            await desk.payments.pay_checkout(placed["checkout_url"])
        while self.challenge_id is None:
            mine = await self._do("GET", "/api/traders/me/orders")
            paid = [o for o in mine if o["id"] == placed["id"] and o["status"] == "paid"]
            self.challenge_id = paid[0]["challenge_id"] if paid else None
            await asyncio.sleep(POLL_SECONDS)

    async def _verify(self) -> None:
        kyc = self.desk.kyc
        started = await self._do("POST", "/api/traders/me/kyc", json={"provider": kyc.kyc_provider})
        await kyc.approve_applicant(started["applicant"])
        while True:  # the provider's webhook brings the verdict
            if (await self._do("GET", "/api/traders/me"))["kyc_status"] == "approved":
                return
            await asyncio.sleep(POLL_SECONDS)

    async def _trade(self) -> None:
        trading: set[str] = set()
        while True:
            status, account = await self._challenge()
            if status in TERMINAL:
                return
            if account and account not in trading and status in (ACTIVE, FUNDED):
                platform, _, login = account.partition(":")
                profile = self.persona.funded if status == FUNDED else self.persona.profile
                await self.desk.platforms[platform].start_trader(login, profile)
                trading.add(account)
            if status == FUNDED and self.desk.rail is not None:
                await self._payouts()
            await asyncio.sleep(POLL_SECONDS)

    async def _challenge(self) -> tuple[str, str | None]:
        async with self.runtime.db.session(TenantContext(self.desk.slug)) as session:
            row = await session.get(ChallengeRow, self.challenge_id)
            assert row is not None
            return row.status, row.account

    async def _payouts(self) -> None:
        """Ask for a payout when the quote allows one and none is under way."""
        assert self.desk.rail is not None
        if self.payout is not None:
            payout = await self._do("GET", f"/api/traders/me/payouts/{self.payout}")
            if payout["status"] not in _SETTLED:
                return
            self.payout, self.next_payout = None, time.monotonic() + PAYOUT_PAUSE_SECONDS
        if time.monotonic() < self.next_payout:
            return
        mine = f"/api/traders/me/challenges/{self.challenge_id}"
        quote, rail = await self._do("GET", f"{mine}/payout-quote"), self.desk.rail.rail
        if not quote["eligible"] or rail not in quote["rails"]:
            return
        self.destination = self.destination or await self.desk.rail.payout_destination(self.email)
        self.payouts_asked += 1
        key = {"Idempotency-Key": f"demo-payout-{self.email}-{self.payouts_asked}"}
        body = {"rail": rail, "destination": self.destination}
        asked = await call(self.web, "POST", f"{mine}/payouts", json=body, headers=key)
        if asked.status_code != 422:  # 422: the quote moved on since (a loss): ask later
            self.payout = checked(asked).json()["id"]
