"""``StripeSimulatorControl``: an async client of the control API (``/__sim__/``), one
method per route. Errors raise ``httpx.HTTPStatusError`` (the body is Stripe's error shape)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from propdesk.testing.simulators import ControlClient


class StripeSimulatorControl(ControlClient):
    """One method per control route, on ``ControlClient``'s per-event-loop HTTP client."""

    async def health(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/health"))

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    # checkout and disputes

    async def pay(
        self, session_id: str, outcome: str = "succeeded", *, settle: bool = True
    ) -> dict[str, Any]:
        """outcome: succeeded, declined, async_succeeded or async_failed."""
        body = {"outcome": outcome, "settle": settle}
        return dict(await self._call("POST", f"/checkout/{session_id}/pay", body))

    async def settle(self, session_id: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"/checkout/{session_id}/settle"))

    async def expire(self, session_id: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"/checkout/{session_id}/expire"))

    async def open_dispute(
        self,
        *,
        payment_intent: str | None = None,
        charge: str | None = None,
        reason: str = "fraudulent",
        amount: int | None = None,
    ) -> dict[str, Any]:
        body = {"payment_intent": payment_intent, "charge": charge, "reason": reason}
        return dict(await self._call("POST", "/disputes", body | {"amount": amount}))

    async def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        """status: won or lost."""
        return dict(await self._call("POST", f"/disputes/{dispute_id}/close", {"status": status}))

    async def add_coupon(
        self,
        coupon_id: str,
        *,
        percent_off: float | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"id": coupon_id, "percent_off": percent_off}
        body |= {"amount_off": amount_off, "currency": currency}
        body = {key: value for key, value in body.items() if value is not None}
        return dict(await self._call("POST", "/coupons", body))

    # Connect: connected accounts, the balance, transfers

    async def add_connected_account(
        self, account_id: str | None = None, *, email: str | None = None
    ) -> str:
        """A connected account transfers may go to: ``account_id`` (``acct_…``) or a new one;
        its id."""
        body = {"id": account_id, "email": email}
        return str((await self._call("POST", "/connected-accounts", body))["id"])

    async def connected_accounts(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/connected-accounts"))

    async def set_balance(self, amount: int, currency: str = "usd") -> dict[str, Any]:
        """The platform's available balance in ``currency`` (minor units)."""
        body = {"amount": amount, "currency": currency}
        return dict(await self._call("POST", "/balance", body))

    async def balance(self) -> dict[str, Any]:
        """``{"available": {currency: minor units}, "default": for the others}``."""
        return dict(await self._call("GET", "/balance"))

    async def transfers(
        self,
        *,
        payout_reference: str | None = None,
        transfer_group: str | None = None,
        destination: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every transfer made (oldest first), filtered by its metadata's
        ``payout_reference``, its ``transfer_group`` or its ``destination``."""
        filters = {"payout_reference": payout_reference, "transfer_group": transfer_group}
        return list(await self._call("GET", "/transfers", destination=destination, **filters))

    async def transfer_summary(self, by: str = "payout_reference") -> dict[str, dict[str, Any]]:
        """Transfers grouped by ``payout_reference`` or ``transfer_group``: ``{key: {"count",
        "amounts": {currency: minor units}, "ids"}}`` (those without one under ``""``)."""
        return dict(await self._call("GET", "/transfers/summary", by=by))

    # webhooks

    async def add_endpoint(
        self, url: str, secret: str | None = None, enabled_events: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """An endpoint (``we_…``); without a secret it signs with the default one."""
        body = {"url": url, "secret": secret, "enabled_events": list(enabled_events or ["*"])}
        return dict(await self._call("POST", "/webhooks/endpoints", body))

    async def endpoints(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/webhooks/endpoints"))

    async def remove_endpoint(self, endpoint_id: str) -> None:
        await self._call("DELETE", f"/webhooks/endpoints/{endpoint_id}")

    async def set_webhook_mode(
        self,
        *,
        duplicates: int = 1,
        shuffle: bool = False,
        stale: bool = False,
        bad_signature: bool = False,
        count: int | None = None,
        retry_delays: Sequence[float] | None = None,
    ) -> dict[str, Any]:
        """How the next events are delivered (``count`` of them; None: until changed)."""
        body: dict[str, Any] = {"duplicates": duplicates, "shuffle": shuffle, "stale": stale}
        body |= {"bad_signature": bad_signature, "count": count}
        body |= {"retry_delays": list(retry_delays) if retry_delays is not None else None}
        return dict(await self._call("POST", "/webhooks/mode", body))

    async def webhook_mode(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/webhooks/mode"))

    async def release(self) -> list[str]:
        """Sends the held events, shuffled; their event ids in the order sent."""
        return list((await self._call("POST", "/webhooks/release"))["released"])

    async def redeliver(
        self,
        event_id: str,
        *,
        endpoint: str | None = None,
        duplicates: int = 1,
        stale: bool = False,
        bad_signature: bool = False,
    ) -> int:
        """Sends a past event again; returns the number of deliveries queued."""
        body = {"endpoint": endpoint, "duplicates": duplicates, "stale": stale}
        body |= {"bad_signature": bad_signature}
        return int((await self._call("POST", f"/events/{event_id}/redeliver", body))["deliveries"])

    async def deliveries(
        self, *, event: str | None = None, endpoint: str | None = None
    ) -> list[dict[str, Any]]:
        """The attempt log: event, type, endpoint, copy, attempt, status, error, time…"""
        return list(await self._call("GET", "/deliveries", event=event, endpoint=endpoint))

    async def webhooks_pending(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/webhooks/pending"))

    async def wait_idle(self, within: float = 10.0) -> None:
        """Until no delivery is queued or retrying (held ones do not count); TimeoutError
        after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not (await self.webhooks_pending())["idle"]:
            if time.monotonic() > deadline:
                raise TimeoutError("webhook deliveries still under way")
            await asyncio.sleep(0.02)

    # inspection and faults

    async def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/requests", path=path))

    async def clear_requests(self) -> None:
        await self._call("DELETE", "/requests")

    async def add_fault(
        self,
        path: str = "/v1/",
        *,
        status: int | None = None,
        delay: float = 0.0,
        count: int = 1,
        method: str | None = None,
        drop: bool = False,
        apply: bool = True,
    ) -> dict[str, Any]:
        """The next ``count`` matching API requests wait ``delay`` s and/or answer ``status``
        (429 rate limit, 5xx api_error) and/or ``drop`` the connection unanswered. A 5xx or a
        drop comes after the endpoint ran and kept its result under the idempotency key (the
        answer is lost), or with ``apply=False`` before it ran (nothing done, nothing kept)."""
        body = {"path": path, "status": status, "delay": delay, "count": count, "method": method}
        body |= {"drop": drop, "apply": apply}
        return dict(await self._call("POST", "/faults", body))

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        return dict(await self._call("POST", "/clock", {"advance_seconds": seconds}))

    async def snapshot(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/snapshot"))
