"""The ``Idempotency-Key`` store: the first result under a key is replayed (same status and
body, ``Idempotent-Replayed: true``); the same key with other parameters is a 400
``idempotency_error``; a request while another with the key is in flight gets 409."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from propdesk_psp_stripe.simulator.errors import StripeError, invalid

MAX_KEY_LENGTH = 255


@dataclass
class Saved:
    fingerprint: tuple[str, str, Any]
    created: float
    request_id: str
    status: int = 0
    body: bytes = b""
    in_flight: bool = True


@dataclass
class Replay:
    status: int
    body: bytes
    request_id: str


class IdempotencyStore:
    """Keys scoped by API key, pruned after ``ttl_seconds`` and beyond ``capacity`` (oldest
    first). Callers hold the simulator's lock."""

    def __init__(self, ttl_seconds: float, capacity: int) -> None:
        self.ttl_seconds, self.capacity = ttl_seconds, capacity
        self._keys: OrderedDict[tuple[str, str], Saved] = OrderedDict()

    def clear(self) -> None:
        self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)

    def state(self, api_key: str, key: str) -> str | None:
        """``in_flight``, ``saved`` or None (unknown key)."""
        saved = self._keys.get((api_key, key))
        return None if saved is None else "in_flight" if saved.in_flight else "saved"

    def prune(self, now: float) -> None:
        while self._keys:
            scope, saved = next(iter(self._keys.items()))
            if now - saved.created < self.ttl_seconds and len(self._keys) <= self.capacity:
                break
            if saved.in_flight and now - saved.created < self.ttl_seconds:
                break
            del self._keys[scope]

    def begin(
        self,
        api_key: str,
        key: str,
        fingerprint: tuple[str, str, Any],
        now: float,
        request_id: str,
    ) -> Replay | None:
        """``None``: the request runs (and must ``finish`` or ``abandon``); a ``Replay``: the
        saved answer. Raises the 400 (key too long, other parameters) and the 409."""
        if len(key) > MAX_KEY_LENGTH:
            raise invalid(
                f"Invalid idempotency key: must be at most {MAX_KEY_LENGTH} characters",
                "idempotency_key",
            )
        self.prune(now)
        saved = self._keys.get((api_key, key))
        if saved is None:
            self._keys[(api_key, key)] = Saved(fingerprint, now, request_id)
            return None
        if saved.in_flight:
            raise StripeError(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                "going through): " + key + ". Please try again later.",
                code="idempotency_key_in_use",
                save=False,
                headers={"Stripe-Should-Retry": "true"},
            )
        if saved.fingerprint != fingerprint:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type_="idempotency_error",
                save=False,
            )
        return Replay(saved.status, saved.body, saved.request_id)

    def finish(self, api_key: str, key: str, status: int, body: bytes) -> None:
        saved = self._keys.get((api_key, key))
        if saved is not None:
            saved.status, saved.body, saved.in_flight = status, body, False

    def abandon(self, api_key: str, key: str) -> None:
        """Validation failed before the endpoint ran: nothing is kept, the key is free."""
        self._keys.pop((api_key, key), None)
