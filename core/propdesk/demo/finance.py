"""The desk's demo finance user at work: signed in to the back office's API, they approve every
payout waiting for review (``POST /api/payouts/{id}/approvals``: the back office's call, which
is ``payouts.service.approve``), and reject one the approval refuses, returning the profit to
the trading account."""

from __future__ import annotations

import asyncio

import httpx

from propdesk.demo.staff import DEMO_PASSWORD, desk_email
from propdesk.demo.traders import POLL_SECONDS, call, checked


async def approve_payouts(base_url: str, desk: str) -> None:
    """Work the desk's review queue until cancelled."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as web:
        me = {"email": desk_email("finance", desk), "password": DEMO_PASSWORD}
        signed = checked(await call(web, "POST", "/api/auth/login", json=me))
        web.cookies.clear()
        cookie = f"propdesk_session={signed.cookies['propdesk_session']}"
        web.headers.update({"X-Propdesk-Tenant": desk, "Cookie": cookie})
        while True:
            queue = await call(web, "GET", "/api/payouts", params={"status": "pending_review"})
            for payout in checked(queue).json():
                url = f"/api/payouts/{payout['id']}"
                approved = await call(web, "POST", f"{url}/approvals")
                if approved.status_code in (409, 422):  # its quote no longer holds
                    why = {"disposition": "return", "reason": f"refused at review: {approved.text}"}
                    await call(web, "POST", f"{url}/rejection", json=why)
                else:
                    checked(approved)
            await asyncio.sleep(POLL_SECONDS)
