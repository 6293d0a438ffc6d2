"""``SumsubSimulatorControl``: an async client of the simulator's control API (``/__sim__/``),
one method per route, plus ``wait_deliveries`` for tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from propdesk.testing.simulators import ControlClient


class SumsubSimulatorControl(ControlClient):
    """One method per control route, on ``ControlClient``'s per-event-loop HTTP client."""

    # -- state -----------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/health"))

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def clock(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/clock"))

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        return dict(await self._call("POST", "/clock", {"advance_seconds": seconds}))

    async def applicants(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/applicants"))

    async def applicant(self, applicant_id: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/applicants/{applicant_id}"))

    # -- driving reviews -------------------------------------------------------------------

    async def review(
        self,
        applicant_id: str,
        answer: str,
        *,
        reject_type: str | None = None,
        labels: Sequence[str] = (),
        moderation_comment: str | None = None,
        client_comment: str | None = None,
    ) -> dict[str, Any]:
        """Completes a review (``GREEN``, or ``RED`` with ``RETRY``/``FINAL``): the applicant's
        state changes and ``applicantReviewed`` is sent."""
        body = {"answer": answer, "reject_type": reject_type, "labels": list(labels)}
        body |= {"moderation_comment": moderation_comment, "client_comment": client_comment}
        return dict(await self._call("POST", f"/applicants/{applicant_id}/review", body))

    async def submit(self, applicant_id: str, *, pending: bool = True) -> dict[str, Any]:
        """The applicant sent their documents; with ``pending`` false they wait for a
        ``request_check`` instead of going to review."""
        route = f"/applicants/{applicant_id}/submit"
        return dict(await self._call("POST", route, {"pending": pending}))

    async def reset_applicant(self, applicant_id: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"/applicants/{applicant_id}/reset", {}))

    async def events(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/events"))

    # -- webhooks --------------------------------------------------------------------------

    async def webhooks(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/webhooks"))

    async def add_webhook(
        self,
        url: str,
        secret: str | None = None,
        algorithm: str = "HMAC_SHA256_HEX",
        types: Sequence[str] = (),
    ) -> dict[str, Any]:
        body = {"url": url, "secret": secret, "algorithm": algorithm, "types": list(types)}
        return dict(await self._call("POST", "/webhooks", body))

    async def clear_webhooks(self) -> None:
        await self._call("DELETE", "/webhooks")

    async def delivery_mode(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/webhooks/mode"))

    async def set_delivery_mode(self, **changes: Any) -> dict[str, Any]:
        """``duplicates``, ``hold``, ``bad_digest``, ``algorithm``, ``omit_alg_header``,
        ``retry_delays``; fields left out keep their value (pass ``algorithm=None`` to clear)."""
        return dict(await self._call("POST", "/webhooks/mode", changes))

    async def release(self, order: str = "fifo", seed: int | None = None) -> int:
        body = {"order": order, "seed": seed}
        return int((await self._call("POST", "/webhooks/release", body))["released"])

    async def deliveries(self, state: str | None = None) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/deliveries", state=state))

    async def wait_deliveries(self, within: float = 10.0) -> list[dict[str, Any]]:
        """Waits until no delivery is being sent or due now, then returns them all."""
        deadline = time.monotonic() + within
        while (await self.health())["deliveries_due"]:
            if time.monotonic() > deadline:
                raise TimeoutError("webhook deliveries still due")
            await asyncio.sleep(0.02)
        return await self.deliveries()

    # -- requests, limits, faults ----------------------------------------------------------

    async def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/requests", path=path))

    async def clear_requests(self) -> None:
        await self._call("DELETE", "/requests")

    async def set_limits(
        self, *, get: int | None = None, post: int | None = None
    ) -> dict[str, Any]:
        """Requests per 5 s before a 429 (``None``: unlimited)."""
        return dict(await self._call("POST", "/limits", {"get": get, "post": post}))

    async def add_fault(
        self,
        path: str = "/resources/",
        *,
        status: int = 503,
        count: int = 1,
        retry_after: float | None = None,
        action: str = "status",
        description: str | None = None,
    ) -> dict[str, Any]:
        """The next ``count`` requests under ``path`` answer ``status`` (``action="drop"``:
        the connection is closed without an answer)."""
        body = {"path": path, "status": status, "count": count, "retry_after": retry_after}
        body |= {"action": action, "description": description}
        return dict(await self._call("POST", "/faults", body))

    async def faults(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/faults"))

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")
