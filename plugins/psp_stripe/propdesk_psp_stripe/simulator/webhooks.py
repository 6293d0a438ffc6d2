"""The webhook sender: every event POSTed to each endpoint that wants it, signed with
``Stripe-Signature: t=…,v1=…`` (integrations.md §4.3), retried on the configured schedule
until a 2xx; and the delivery modes tests break it with (duplicates, held and shuffled
delivery, stale timestamps, wrong signatures) and an attempt log."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import httpx

from propdesk_psp_stripe.simulator.store import new_id

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(payload: bytes | str, secret: str, timestamp: int) -> str:
    """``t=<unix>,v1=hex(HMAC_SHA256(secret, f"{t}.{payload}"))``, as Stripe signs."""
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass
class WebhookEndpoint:
    url: str
    #: ``whsec_…``; empty takes the simulator's ``webhook_secret``.
    secret: str = ""
    #: Event types, ``*`` or ``prefix.*`` patterns.
    enabled_events: tuple[str, ...] = ("*",)
    id: str = ""

    def wants(self, event_type: str) -> bool:
        return any(
            pattern in ("*", event_type)
            or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            for pattern in self.enabled_events
        )

    def view(self) -> dict[str, Any]:
        return {**asdict(self), "enabled_events": list(self.enabled_events)}


@dataclass
class DeliveryMode:
    #: Each event is delivered this many times (1: once).
    duplicates: int = 1
    #: Hold events until ``release``, which sends them in a shuffled order.
    shuffle: bool = False
    #: Sign with a timestamp ``stale_seconds`` in the past (beyond the 300 s tolerance).
    stale: bool = False
    #: Sign with a wrong secret.
    bad_signature: bool = False
    #: Applies to this many next events, then delivery is back to normal; None: until changed.
    count: int | None = None


@dataclass
class Delivery:
    event_id: str
    event_type: str
    endpoint: WebhookEndpoint
    payload: bytes
    copy: int
    stale: bool
    bad_signature: bool
    generation: int
    id: str = field(default_factory=lambda: new_id("dlv_", 16))
    attempts: int = 0


class WebhookSender:
    """Runs in the server's event loop (``start``/``stop``); events are submitted from any
    thread. Each endpoint has a worker sending first attempts in submission order; a failed
    delivery retries in a task of its own, so it does not hold the others up."""

    def __init__(
        self,
        lock: threading.RLock,
        *,
        default_secret: str,
        retry_delays: tuple[float, ...],
        timeout_seconds: float,
        stale_seconds: int,
        log_size: int,
        seed: int,
    ) -> None:
        self.lock, self.default_secret = lock, default_secret
        self.retry_delays, self.timeout_seconds = retry_delays, timeout_seconds
        self.stale_seconds = stale_seconds
        self.rng = random.Random(seed)
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.mode = DeliveryMode()
        self.held: list[Delivery] = []
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.delivered: set[tuple[str, str]] = set()
        #: Called (under the lock) when an event first reaches an endpoint with a 2xx.
        self.on_delivered: Callable[[str], None] = lambda event_id: None
        self.generation = 0
        self._queued = self._retrying = 0
        self._backlog: list[Delivery] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def reset(self, endpoints: Iterable[WebhookEndpoint], retry_delays: tuple[float, ...]) -> None:
        """Forgets everything; deliveries under way are dropped before their next attempt."""
        with self.lock:
            self.generation += 1
            self.endpoints.clear()
            for endpoint in endpoints:
                self.add_endpoint(replace(endpoint))
            self.retry_delays = retry_delays
            self.mode = DeliveryMode()
            self.held.clear()
            self.log.clear()
            self.delivered.clear()
            self._backlog.clear()
            self._queued = self._retrying = 0

    def add_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        with self.lock:
            endpoint.id = endpoint.id or new_id("we_")
            endpoint.secret = endpoint.secret or self.default_secret
            self.endpoints[endpoint.id] = endpoint
            return endpoint

    def matching(self, event_type: str) -> list[WebhookEndpoint]:
        return [ep for ep in self.endpoints.values() if ep.wants(event_type)]

    def set_mode(self, mode: DeliveryMode) -> None:
        with self.lock:
            self.mode = mode

    def submit(self, event: dict[str, Any], payload: bytes) -> None:
        """Deliveries of a new event under the current mode (held while it shuffles)."""
        with self.lock:
            targets = self.matching(event["type"])
            if not targets:
                return
            mode = self.mode
            if mode.count is not None:
                mode.count -= 1
                if mode.count <= 0:
                    self.mode = DeliveryMode()
            deliveries = self._deliveries(event, payload, targets, mode)
            if mode.shuffle:
                self.held.extend(deliveries)
            else:
                self._enqueue(deliveries)

    def redeliver(
        self,
        event: dict[str, Any],
        payload: bytes,
        endpoint_id: str | None,
        mode: DeliveryMode,
    ) -> int:
        """Sends a past event again now (to one endpoint or to all that want it)."""
        with self.lock:
            if endpoint_id is not None:
                targets = [self.endpoints[endpoint_id]] if endpoint_id in self.endpoints else []
            else:
                targets = self.matching(event["type"])
            deliveries = self._deliveries(event, payload, targets, mode)
            self._enqueue(deliveries)
            return len(deliveries)

    def release(self) -> list[str]:
        """The held deliveries, sent shuffled (never in their original order when there are
        several); returns their event ids in the order sent."""
        with self.lock:
            held, self.held = self.held, []
            order = list(held)
            self.rng.shuffle(order)
            if len(order) > 1 and [d.id for d in order] == [d.id for d in held]:
                order = order[1:] + order[:1]
            self._enqueue(order)
            return [delivery.event_id for delivery in order]

    def pending(self) -> dict[str, Any]:
        with self.lock:
            busy = self._queued + self._retrying
            return {
                "queued": self._queued,
                "retrying": self._retrying,
                "held": len(self.held),
                "idle": busy == 0,
            }

    def _deliveries(
        self,
        event: dict[str, Any],
        payload: bytes,
        targets: list[WebhookEndpoint],
        mode: DeliveryMode,
    ) -> list[Delivery]:
        copies, flags = max(1, mode.duplicates), (mode.bad_signature, self.generation)
        return [
            Delivery(event["id"], event["type"], endpoint, payload, copy, mode.stale, *flags)
            for endpoint in targets
            for copy in range(1, copies + 1)
        ]

    def _enqueue(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        self._queued += len(deliveries)
        if self._loop is None:
            self._backlog.extend(deliveries)
        else:
            self._loop.call_soon_threadsafe(self._put, deliveries)

    # in the event loop

    def _put(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            queue = self._queues.get(delivery.endpoint.id)
            if queue is None:
                queue = self._queues[delivery.endpoint.id] = asyncio.Queue()
                self._spawn(self._worker(queue))
            queue.put_nowait(delivery)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout_seconds)
        with self.lock:
            self._loop = asyncio.get_running_loop()
            backlog, self._backlog = self._backlog, []
        self._put(backlog)

    async def stop(self) -> None:
        with self.lock:
            self._loop = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._queues.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _worker(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            succeeded = False
            try:
                succeeded = await self._attempt(delivery)
            finally:
                retry = self._first_attempt_done(delivery, succeeded)
            if retry:
                self._spawn(self._retry(delivery))

    def _first_attempt_done(self, delivery: Delivery, succeeded: bool) -> bool:
        """Whether the delivery goes on to retries (counted as retrying from here)."""
        with self.lock:
            if delivery.generation != self.generation:
                return False
            self._queued -= 1
            retry = not succeeded and delivery.attempts <= len(self.retry_delays)
            self._retrying += retry
            return retry

    async def _retry(self, delivery: Delivery) -> None:
        try:
            while True:
                await asyncio.sleep(self.retry_delays[delivery.attempts - 1])
                if await self._attempt(delivery):
                    return
                if delivery.attempts > len(self.retry_delays):
                    return
        finally:
            with self.lock:
                if delivery.generation == self.generation:
                    self._retrying -= 1

    async def _attempt(self, delivery: Delivery) -> bool:
        """One POST; a 2xx is success. Deliveries from before a reset succeed silently."""
        with self.lock:
            if delivery.generation != self.generation or self._client is None:
                return True
            delivery.attempts += 1
            client = self._client
        endpoint = delivery.endpoint
        timestamp = int(time.time()) - (self.stale_seconds if delivery.stale else 0)
        secret = endpoint.secret
        if delivery.bad_signature:
            # A well-formed header signed with another secret, as a forger would send.
            secret = "whsec_wrong_" + secret
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(delivery.payload, secret, timestamp),
            "User-Agent": USER_AGENT,
        }
        status, error = None, None
        try:
            response = await client.post(endpoint.url, content=delivery.payload, headers=headers)
            status = response.status_code
        except Exception as exc:  # any failure to deliver is a failed attempt, retried
            error = f"{type(exc).__name__}: {exc}"
        succeeded = status is not None and 200 <= status < 300
        with self.lock:
            if delivery.generation != self.generation:
                return True
            self.log.append(
                {
                    "delivery": delivery.id,
                    "event": delivery.event_id,
                    "type": delivery.event_type,
                    "endpoint": endpoint.id,
                    "url": endpoint.url,
                    "copy": delivery.copy,
                    "attempt": delivery.attempts,
                    "status": status,
                    "error": error,
                    "succeeded": succeeded,
                    "time": time.time(),
                    "signature_timestamp": timestamp,
                    "stale": delivery.stale,
                    "bad_signature": delivery.bad_signature,
                }
            )
            if succeeded and (delivery.event_id, endpoint.id) not in self.delivered:
                self.delivered.add((delivery.event_id, endpoint.id))
                self.on_delivered(delivery.event_id)
        return succeeded
