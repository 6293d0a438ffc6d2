"""The webhook sender: every event goes to every subscribed endpoint as its own delivery, posted
one at a time in order, signed with ``X-Payload-Digest`` over the raw body, and retried on the
simulator's clock until a 2xx or the schedule runs out. A delivery mode lets tests duplicate,
hold and reorder, corrupt digests and change or drop the algorithm header."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import httpx

from propdesk_kyc_sumsub.simulator.config import DIGEST_ALGORITHMS, WebhookEndpoint

if TYPE_CHECKING:
    from propdesk_kyc_sumsub.simulator.state import Simulator

_HASHES = {"HMAC_SHA1_HEX": hashlib.sha1, "HMAC_SHA512_HEX": hashlib.sha512}
#: How often the sender looks for retries that fell due (wake() cuts the wait short).
_POLL_SECONDS = 0.02


@dataclass
class Endpoint:
    id: int
    url: str
    secret: str
    algorithm: str
    types: tuple[str, ...]

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "algorithm": self.algorithm,
                "types": list(self.types)}  # fmt: skip


@dataclass
class DeliveryMode:
    #: Extra copies of each delivery (same body, same correlationId).
    duplicates: int = 0
    #: Keep new deliveries until ``release`` (which can reverse or shuffle them).
    hold: bool = False
    #: How many of the next attempts carry a wrong digest.
    bad_digest: int = 0
    #: Sign with this algorithm (and name it in the header) instead of the endpoint's. A name
    #: Sumsub does not have is sent as is, over an HMAC-SHA256 digest.
    algorithm: str | None = None
    #: Leave ``X-Payload-Digest-Alg`` out (the receiver must assume its default).
    omit_alg_header: bool = False
    retry_delays: tuple[float, ...] = ()

    def view(self) -> dict[str, Any]:
        return {**self.__dict__, "retry_delays": list(self.retry_delays)}


@dataclass
class Delivery:
    id: int
    endpoint: Endpoint
    body: bytes
    payload: dict[str, Any]
    copy: int
    state: str
    due: float | None
    rank: float
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint": self.endpoint.id,
            "url": self.endpoint.url,
            "type": self.payload["type"],
            "applicant_id": self.payload["applicantId"],
            "correlation_id": self.payload["correlationId"],
            "copy": self.copy,
            "state": self.state,
            "next_attempt_at": self.due if self.state == "scheduled" else None,
            "attempts": list(self.attempts),
        }


class WebhookSender:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self.reset()

    def reset(self) -> None:
        with self.sim.lock:
            self.endpoints: list[Endpoint] = []
            self.deliveries: dict[int, Delivery] = {}
            self.mode = DeliveryMode(retry_delays=tuple(self.sim.config.webhook_retry_delays))
            self._seq = 0
            for hook in self.sim.config.webhooks:
                self.add_endpoint(hook)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # -- configuration ---------------------------------------------------------------------

    def add_endpoint(self, hook: WebhookEndpoint) -> Endpoint:
        if hook.algorithm not in DIGEST_ALGORITHMS:
            raise ValueError(f"algorithm is one of {', '.join(DIGEST_ALGORITHMS)}")
        if not hook.url.startswith(("http://", "https://")):
            raise ValueError("a webhook url is http(s)://...")
        with self.sim.lock:
            endpoint = Endpoint(self._next(), hook.url, hook.secret, hook.algorithm, hook.types)
            self.endpoints.append(endpoint)
            return endpoint

    def clear_endpoints(self) -> None:
        with self.sim.lock:
            self.endpoints.clear()

    def set_mode(self, changes: dict[str, Any]) -> DeliveryMode:
        known = set(DeliveryMode.__dataclass_fields__)
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown delivery mode fields: {', '.join(sorted(unknown))}")
        values = {k: v for k, v in changes.items() if v is not None or k == "algorithm"}
        if "retry_delays" in values:
            values["retry_delays"] = tuple(float(x) for x in values["retry_delays"])
        for name in ("duplicates", "bad_digest"):
            if name in values and int(values[name]) < 0:
                raise ValueError(f"{name} is 0 or more")
        with self.sim.lock:
            self.mode = replace(self.mode, **values)
        self.wake()
        return self.mode

    # -- events in -------------------------------------------------------------------------

    def emit(self, payload: dict[str, Any]) -> None:
        """Queues ``payload`` for every endpoint subscribed to its type (call under the lock)."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        now, mode = self.sim.now(), self.mode
        for endpoint in self.endpoints:
            if endpoint.types and payload["type"] not in endpoint.types:
                continue
            for copy in range(1 + mode.duplicates):
                number = self._next()
                state, due = ("held", None) if mode.hold else ("scheduled", now)
                self.deliveries[number] = Delivery(
                    number, endpoint, body, payload, copy, state, due, float(number)
                )
        self.wake()

    def release(self, order: str = "fifo", seed: int | None = None) -> int:
        """Sends the held deliveries, in ``fifo``, ``reverse`` or ``shuffle`` order."""
        if order not in ("fifo", "reverse", "shuffle"):
            raise ValueError("order is fifo, reverse or shuffle")
        with self.sim.lock:
            held = [d for d in self.deliveries.values() if d.state == "held"]
            if order == "reverse":
                held.reverse()
            elif order == "shuffle":
                random.Random(seed if seed is not None else self.sim.rng.random()).shuffle(held)
            now = self.sim.now()
            for rank, delivery in enumerate(held):
                delivery.state, delivery.due, delivery.rank = "scheduled", now, float(rank)
        self.wake()
        return len(held)

    def due_count(self) -> int:
        """Deliveries being sent or due now (not held, nor waiting for a later retry)."""
        with self.sim.lock:
            now = self.sim.now()
            return sum(
                1
                for d in self.deliveries.values()
                if d.state == "sending" or (d.state == "scheduled" and (d.due or 0) <= now)
            )

    # -- the sending loop ------------------------------------------------------------------

    def wake(self) -> None:
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wakeup.set)

    async def start(self) -> None:
        self._loop, self._wakeup = asyncio.get_running_loop(), asyncio.Event()
        self._http = httpx.AsyncClient(timeout=self.sim.config.webhook_timeout_seconds)
        self._task = asyncio.create_task(self._run(), name="sumsub-webhook-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.aclose()
        self._loop = self._wakeup = self._task = self._http = None

    def _take(self) -> tuple[Delivery, dict[str, str], dict[str, Any]] | None:
        with self.sim.lock:
            now = self.sim.now()
            due = [
                d for d in self.deliveries.values()
                if d.state == "scheduled" and d.due is not None and d.due <= now
            ]  # fmt: skip
            if not due:
                return None
            delivery = min(due, key=lambda d: (d.due, d.rank))
            delivery.state = "sending"
            mode, endpoint = self.mode, delivery.endpoint
            algorithm = mode.algorithm or endpoint.algorithm
            bad = mode.bad_digest > 0
            if bad:
                mode.bad_digest -= 1
            key = endpoint.secret.encode() + (b"-not-the-secret" if bad else b"")
            digest = hmac.new(key, delivery.body, _HASHES.get(algorithm, hashlib.sha256))
            headers = {"Content-Type": "application/json", "X-Payload-Digest": digest.hexdigest()}
            if not mode.omit_alg_header:
                headers["X-Payload-Digest-Alg"] = algorithm
            attempt = {
                "attempt": len(delivery.attempts) + 1,
                "at": now,
                "algorithm": algorithm,
                "alg_header": not mode.omit_alg_header,
                "bad_digest": bad,
            }
            return delivery, headers, attempt

    async def _send(
        self, delivery: Delivery, headers: dict[str, str], attempt: dict[str, Any]
    ) -> None:
        assert self._http is not None
        status, error = None, None
        try:
            response = await self._http.post(
                delivery.endpoint.url, content=delivery.body, headers=headers
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self.sim.lock:
            delivery.attempts.append({**attempt, "status": status, "error": error})
            if status is not None and 200 <= status < 300:
                delivery.state, delivery.due = "delivered", None
                return
            retries = self.mode.retry_delays
            done = len(delivery.attempts) - 1
            if done < len(retries):
                delivery.state, delivery.due = "scheduled", self.sim.now() + retries[done]
            else:
                delivery.state, delivery.due = "failed", None

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            taken = self._take()
            if taken is not None:
                await self._send(*taken)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), _POLL_SECONDS)
            self._wakeup.clear()
