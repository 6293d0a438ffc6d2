"""The simulator's configuration and its hub: clock, objects, events, the idempotency store,
injected faults, the request log and the webhook sender, with one lock around all state."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from propdesk_psp_stripe.simulator import checkout, transfers
from propdesk_psp_stripe.simulator.idempotency import IdempotencyStore
from propdesk_psp_stripe.simulator.store import Obj, Store, new_id
from propdesk_psp_stripe.simulator.webhooks import WebhookEndpoint, WebhookSender

API_VERSION = "2026-10-28.endive"
# Test-mode credentials of the simulator only, public by design.
DEFAULT_SECRET_KEY = "sk_test_propdesk_simulator"  # noqa: S105
DEFAULT_WEBHOOK_SECRET = "whsec_propdesk_simulator"  # noqa: S105


@dataclass
class SimulatorConfig:
    #: API keys accepted (``Bearer`` or Basic with the key as user name).
    secret_keys: tuple[str, ...] = (DEFAULT_SECRET_KEY,)
    #: Endpoints present from the start and after every reset.
    webhooks: tuple[WebhookEndpoint, ...] = ()
    #: The secret of endpoints added without one.
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    #: Seconds before each retry of a failed delivery; attempts = 1 + len(retry_delays).
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
    webhook_timeout_seconds: float = 10.0
    #: How far in the past a "stale" delivery is signed (Stripe's tolerance is 300 s).
    stale_seconds: int = 600
    #: Coupons ``discounts[0][coupon]`` may name: id -> {"percent_off"} or {"amount_off",
    #: "currency"}.
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Connected accounts (``acct_…``) present from the start and after every reset.
    connected_accounts: tuple[str, ...] = ()
    #: The platform's available balance in each currency until set (minor units): transfers
    #: draw on it.
    available_balance: int = 100_000_000_000
    api_version: str = API_VERSION
    host: str = "127.0.0.1"
    port: int = 0
    #: The base of the hosted checkout ``url``; None: the URL the session was created through.
    public_url: str | None = None
    #: Seeds the shuffle of held deliveries.
    seed: int = 7
    idempotency_ttl_seconds: float = 24 * 3600
    idempotency_capacity: int = 100_000
    request_log_size: int = 10_000
    delivery_log_size: int = 10_000
    #: How often sessions past their ``expires_at`` are expired.
    expiry_check_seconds: float = 1.0


class Clock:
    """Real time plus an offset that tests advance (``created``, ``expires_at``, key TTLs;
    webhook signatures use real time, which is what receivers check them against)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> int:
        return int(self.time())


@dataclass
class Fault:
    """The next ``count`` requests whose path starts with ``path`` (and of ``method``, if
    given) wait ``delay`` seconds, and/or answer ``status`` (429: rate limited before the
    endpoint runs; 5xx: an api_error saved under the idempotency key, as Stripe saves 500s),
    and/or ``drop`` the connection without an answer.

    ``apply=False`` makes a 5xx or a drop happen *before* the endpoint runs (the request never
    reached the API: nothing done, nothing kept under the key); by default they happen after
    it ran and its result was kept (the answer was lost on the way back)."""

    path: str = "/v1/"
    method: str | None = None
    status: int | None = None
    delay: float = 0.0
    count: int = 1
    drop: bool = False
    apply: bool = True
    id: str = field(default_factory=lambda: new_id("flt_", 8))


class Faults:
    def __init__(self) -> None:
        self.items: list[Fault] = []

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.items:
            if path.startswith(fault.path) and fault.method in (None, method):
                fault.count -= 1
                if fault.count <= 0:
                    self.items.remove(fault)
                return fault
        return None


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.lock = threading.RLock()
        self.clock = Clock()
        self.store = Store()
        self.coupons: dict[str, dict[str, Any]] = {}
        #: The available balance by currency, once set or drawn on.
        self.balances: dict[str, int] = {}
        self.checkout: dict[str, checkout.SessionState] = {}
        #: Each event's webhook body, byte for byte (redeliveries send it again).
        self.payloads: dict[str, bytes] = {}
        self.idempotency = IdempotencyStore(
            self.config.idempotency_ttl_seconds, self.config.idempotency_capacity
        )
        self.faults = Faults()
        self.requests: deque[dict[str, Any]] = deque(maxlen=self.config.request_log_size)
        self.webhooks = WebhookSender(
            self.lock,
            default_secret=self.config.webhook_secret,
            retry_delays=self.config.webhook_retry_delays,
            timeout_seconds=self.config.webhook_timeout_seconds,
            stale_seconds=self.config.stale_seconds,
            log_size=self.config.delivery_log_size,
            seed=self.config.seed,
        )
        self.webhooks.on_delivered = self._delivered
        #: The base URL the server was bound to (``running_simulator`` sets it).
        self.base_url: str | None = None
        #: (request id, idempotency key) of the API request running, for events' ``request``.
        self.request_context: tuple[str | None, str | None] = (None, None)
        self._task: asyncio.Task[None] | None = None
        self.reset()

    def reset(self) -> None:
        """Everything but the configuration forgotten; configured endpoints back."""
        with self.lock:
            self.clock = Clock()
            self.store = Store()
            self.checkout.clear()
            self.payloads.clear()
            self.coupons = copy.deepcopy(self.config.coupons)
            self.balances = {}
            for account in self.config.connected_accounts:
                transfers.add_account(self, account)
            self.idempotency.clear()
            self.faults = Faults()
            self.requests.clear()
            self.webhooks.reset(self.config.webhooks, self.config.webhook_retry_delays)

    def public_url(self, request_base: str) -> str:
        return (self.config.public_url or self.base_url or request_base).rstrip("/")

    def touch(self) -> None:
        """Whatever is due at the current time: sessions past ``expires_at`` expire."""
        with self.lock:
            checkout.expire_due(self)
            self.idempotency.prune(self.clock.time())

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock.offset += seconds
            self.touch()

    # events

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Records an event holding a snapshot of ``obj`` and hands it to the sender."""
        with self.lock:
            request_id, key = self.request_context
            data: Obj = {"object": copy.deepcopy(obj)}
            if previous is not None:
                data["previous_attributes"] = copy.deepcopy(previous)
            event: Obj = {
                "id": new_id("evt_"),
                "object": "event",
                "api_version": self.config.api_version,
                "created": self.clock.now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": len(self.webhooks.matching(event_type)),
                "request": {"id": request_id, "idempotency_key": key},
                "type": event_type,
            }
            self.store.add(event)
            # Stripe sends events pretty-printed: receivers must verify the raw bytes.
            payload = json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8")
            self.payloads[event["id"]] = payload
            self.webhooks.submit(event, payload)
            return event

    def _delivered(self, event_id: str) -> None:
        event = self.store.get("event", event_id)
        if event is not None and event["pending_webhooks"] > 0:
            event["pending_webhooks"] -= 1

    # the server's lifespan

    async def start(self) -> None:
        await self.webhooks.start()
        self._task = asyncio.get_running_loop().create_task(self._expire_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.webhooks.stop()

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.expiry_check_seconds)
            self.touch()
