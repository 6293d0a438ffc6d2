"""Helpers of the Stripe simulator's tests: a webhook receiver on a thread, and session
parameters."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def signature(self) -> str:
        return self.headers["stripe-signature"]

    def event(self, secret: str, tolerance: int = 300) -> stripe.Event:
        """The event, through the SDK's verification (raises SignatureVerificationError)."""
        return stripe.Webhook.construct_event(self.body, self.signature, secret, tolerance)

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """A webhook endpoint on ``127.0.0.1``: records every POST and answers the statuses of
    ``script`` in turn (then 200)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[int] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._cond:
                    status = receiver.script.pop(0) if receiver.script else 200
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.received.append(
                        Received(self.path, headers, body, status, time.monotonic())
                    )
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first ``count`` requests, once they are in (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [r.json()["type"] for r in self.received]
                    raise AssertionError(f"{count} webhooks expected, got {len(got)}: {got}")
                self._cond.wait(left)
            return list(self.received[:count])

    def types(self) -> list[str]:
        with self._cond:
            return [r.json()["type"] for r in self.received]

    def quiet_for(self, seconds: float) -> list[Received]:
        """Everything received after ``seconds`` more (to check nothing else arrives)."""
        time.sleep(seconds)
        with self._cond:
            return list(self.received)


def session_params(**overrides: Any) -> Any:  # Any: the SDK types params as TypedDicts
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 15500,
                    "product_data": {"name": "100K Two-Step Challenge"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "https://crm.example/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://crm.example/checkout/cancel",
        "client_reference_id": "order-42",
        "customer_email": "trader@example.com",
        "metadata": {"order_id": "42"},
        "payment_intent_data": {"metadata": {"order_id": "42"}},
    }
    params.update(overrides)
    return params
