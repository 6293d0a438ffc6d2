"""The control API under ``/__sim__/`` (JSON, no auth) that tests drive the simulator with:
pay and expire sessions, open and close disputes, register connected accounts, set the
balance and count transfers, add webhook endpoints, break webhook delivery, inject faults,
inspect the delivery and request logs. ``StripeSimulatorControl`` is its client."""

from __future__ import annotations

import copy
import json
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from propdesk_psp_stripe.simulator import checkout, payments, transfers
from propdesk_psp_stripe.simulator.core import Fault, Simulator
from propdesk_psp_stripe.simulator.errors import StripeError, invalid
from propdesk_psp_stripe.simulator.webhooks import DeliveryMode, WebhookEndpoint

AnyRequest = Request[Any, Any, Any]


def _stripe_error(_: AnyRequest, exc: Exception) -> Response[dict[str, Any]]:
    assert isinstance(exc, StripeError)
    return Response(exc.body(), status_code=exc.status)


def _bad_body(_: AnyRequest, exc: Exception) -> Response[dict[str, Any]]:
    return Response(invalid(f"Invalid control request: {exc}").body(), status_code=400)


async def _body(request: AnyRequest) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise TypeError("the body must be a JSON object")
    return data


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _mode(data: dict[str, Any]) -> DeliveryMode:
    return DeliveryMode(
        duplicates=int(data.get("duplicates") or 1),
        shuffle=bool(data.get("shuffle", False)),
        stale=bool(data.get("stale", False)),
        bad_signature=bool(data.get("bad_signature", False)),
        count=_opt_int(data.get("count")),
    )


def _balances(sim: Simulator) -> dict[str, Any]:
    return {"available": dict(sim.balances), "default": sim.config.available_balance}


def control_router(sim: Simulator) -> Router:
    lock, hooks = sim.lock, sim.webhooks

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, Any]:
        with lock:
            return {"status": "ok", "time": sim.clock.now(), "api_version": sim.config.api_version}

    @post("/reset", status_code=200, sync_to_thread=False)
    def reset() -> dict[str, Any]:
        sim.reset()
        return {"ok": True}

    @post("/checkout/{session_id:str}/pay", status_code=200)
    async def pay(session_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        outcome = str(data.get("outcome", "succeeded"))
        session = checkout.pay(sim, session_id, outcome, bool(data.get("settle", True)))
        with lock:
            return copy.deepcopy(session)

    @post("/checkout/{session_id:str}/settle", status_code=200, sync_to_thread=False)
    def settle(session_id: FromPath[str]) -> dict[str, Any]:
        with lock:
            return copy.deepcopy(checkout.settle_async(sim, session_id))

    @post("/checkout/{session_id:str}/expire", status_code=200, sync_to_thread=False)
    def expire(session_id: FromPath[str]) -> dict[str, Any]:
        with lock:
            return copy.deepcopy(checkout.expire(sim, session_id))

    @post("/disputes", status_code=200)
    async def open_dispute(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        with lock:
            dispute = payments.open_dispute(
                sim,
                charge_id=data.get("charge"),
                intent_id=data.get("payment_intent"),
                reason=str(data.get("reason") or "fraudulent"),
                amount=_opt_int(data.get("amount")),
            )
            return copy.deepcopy(dispute)

    @post("/disputes/{dispute_id:str}/close", status_code=200)
    async def close_dispute(dispute_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        with lock:
            return copy.deepcopy(payments.close_dispute(sim, dispute_id, str(data.get("status"))))

    @post("/coupons", status_code=200)
    async def add_coupon(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        coupon_id = str(data.pop("id"))
        if (data.get("percent_off") is None) == (data.get("amount_off") is None):
            raise ValueError("a coupon has percent_off or amount_off")
        with lock:
            sim.coupons[coupon_id] = data
        return {"id": coupon_id, **data}

    @post("/connected-accounts", status_code=200)
    async def add_account(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        ident, email = data.get("id"), data.get("email")
        account = transfers.add_account(sim, ident and str(ident), email and str(email))
        with lock:
            return copy.deepcopy(account)

    @get("/connected-accounts", sync_to_thread=False)
    def accounts() -> list[dict[str, Any]]:
        with lock:
            return copy.deepcopy(list(sim.store.objects.get("account", {}).values()))

    @get("/balance", sync_to_thread=False)
    def get_balance() -> dict[str, Any]:
        with lock:
            return _balances(sim)

    @post("/balance", status_code=200)
    async def set_balance(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        with lock:
            transfers.set_balance(sim, str(data.get("currency") or "usd"), int(data["amount"]))
            return _balances(sim)

    @get("/transfers", sync_to_thread=False)
    def list_transfers(
        payout_reference: FromQuery[str | None] = None,
        transfer_group: FromQuery[str | None] = None,
        destination: FromQuery[str | None] = None,
    ) -> list[dict[str, Any]]:
        """Oldest first, all of them (no paging)."""
        with lock:
            return [
                copy.deepcopy(t)
                for t in sim.store.objects.get("transfer", {}).values()
                if payout_reference in (None, t["metadata"].get("payout_reference"))
                and transfer_group in (None, t["transfer_group"])
                and destination in (None, t["destination"])
            ]

    @get("/transfers/summary", sync_to_thread=False)
    def transfer_summary(by: FromQuery[str] = "payout_reference") -> dict[str, Any]:
        with lock:
            return transfers.summary(list(sim.store.objects.get("transfer", {}).values()), by)

    @get("/webhooks/endpoints", sync_to_thread=False)
    def endpoints() -> list[dict[str, Any]]:
        with lock:
            return [endpoint.view() for endpoint in hooks.endpoints.values()]

    @post("/webhooks/endpoints", status_code=200)
    async def add_endpoint(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        events = tuple(data.get("enabled_events") or ("*",))
        endpoint = WebhookEndpoint(str(data["url"]), str(data.get("secret") or ""), events)
        return hooks.add_endpoint(endpoint).view()

    @delete("/webhooks/endpoints/{endpoint_id:str}", status_code=200, sync_to_thread=False)
    def remove_endpoint(endpoint_id: FromPath[str]) -> dict[str, Any]:
        with lock:
            if hooks.endpoints.pop(endpoint_id, None) is None:
                raise NotFoundException(f"no endpoint {endpoint_id}")
        return {"deleted": True}

    @get("/webhooks/mode", sync_to_thread=False)
    def mode() -> dict[str, Any]:
        with lock:
            return {**vars(hooks.mode), "retry_delays": list(hooks.retry_delays)}

    @post("/webhooks/mode", status_code=200)
    async def set_mode(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        with lock:
            hooks.set_mode(_mode(data))
            if data.get("retry_delays") is not None:
                hooks.retry_delays = tuple(float(d) for d in data["retry_delays"])
            return {**vars(hooks.mode), "retry_delays": list(hooks.retry_delays)}

    @post("/webhooks/release", status_code=200, sync_to_thread=False)
    def release() -> dict[str, Any]:
        return {"released": hooks.release()}

    @get("/webhooks/pending", sync_to_thread=False)
    def pending() -> dict[str, Any]:
        return hooks.pending()

    @post("/events/{event_id:str}/redeliver", status_code=200)
    async def redeliver(event_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        endpoint = data.get("endpoint")
        with lock:
            event = sim.store.require("event", event_id, "id")
            if endpoint is not None and endpoint not in hooks.endpoints:
                raise NotFoundException(f"no endpoint {endpoint}")
            mode = _mode(data)
            count = hooks.redeliver(event, sim.payloads[event_id], endpoint, mode)
        return {"deliveries": count}

    @get("/deliveries", sync_to_thread=False)
    def deliveries(
        event: FromQuery[str | None] = None, endpoint: FromQuery[str | None] = None
    ) -> list[dict[str, Any]]:
        with lock:
            return [
                dict(entry)
                for entry in hooks.log
                if event in (None, entry["event"]) and endpoint in (None, entry["endpoint"])
            ]

    @get("/requests", sync_to_thread=False)
    def requests(path: FromQuery[str | None] = None) -> list[dict[str, Any]]:
        with lock:
            return [copy.deepcopy(e) for e in sim.requests if path in (None, e["path"])]

    @delete("/requests", status_code=200, sync_to_thread=False)
    def clear_requests() -> dict[str, Any]:
        with lock:
            sim.requests.clear()
        return {"ok": True}

    @post("/faults", status_code=200)
    async def add_fault(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        method = data.get("method")
        fault = Fault(
            path=str(data.get("path") or "/v1/"),
            method=str(method).upper() if method else None,
            status=_opt_int(data.get("status")),
            delay=float(data.get("delay") or 0.0),
            count=int(data.get("count") or 1),
            drop=bool(data.get("drop", False)),
            apply=bool(data.get("apply", True)),
        )
        if not fault.apply and not (fault.drop or (fault.status or 0) >= 500):
            raise ValueError("apply=false goes with drop or a 5xx status")
        with lock:
            sim.faults.items.append(fault)
        return vars(fault)

    @delete("/faults", status_code=200, sync_to_thread=False)
    def clear_faults() -> dict[str, Any]:
        with lock:
            sim.faults.items.clear()
        return {"ok": True}

    @post("/clock", status_code=200)
    async def advance_clock(request: AnyRequest) -> dict[str, Any]:
        data = await _body(request)
        sim.advance_clock(float(data.get("advance_seconds", 0)))
        with lock:
            return {"time": sim.clock.now(), "offset_seconds": sim.clock.offset}

    @get("/snapshot", sync_to_thread=False)
    def snapshot() -> dict[str, Any]:
        with lock:
            return {
                "time": sim.clock.now(),
                "objects": sim.store.snapshot(),
                "line_items": copy.deepcopy(sim.store.line_items),
                "coupons": copy.deepcopy(sim.coupons),
                "endpoints": [endpoint.view() for endpoint in hooks.endpoints.values()],
            }

    return Router(
        "/__sim__",
        route_handlers=[
            *(health, reset, pay, settle, expire, open_dispute, close_dispute, add_coupon),
            *(add_account, accounts, get_balance, set_balance, list_transfers, transfer_summary),
            *(endpoints, add_endpoint, remove_endpoint, mode, set_mode, release, pending),
            *(redeliver, deliveries, requests, clear_requests, add_fault, clear_faults),
            *(advance_clock, snapshot),
        ],
        exception_handlers={
            StripeError: _stripe_error,
            ValueError: _bad_body,
            KeyError: _bad_body,
            TypeError: _bad_body,
        },
    )
