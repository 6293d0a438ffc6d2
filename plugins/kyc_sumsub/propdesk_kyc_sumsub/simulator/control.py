"""The control API under ``/__sim__/`` (JSON, no auth) that tests and demos use to drive reviews,
configure webhook delivery, move the clock and look at what happened. Its async client is
``SumsubSimulatorControl`` (in ``control_client``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from propdesk_kyc_sumsub.simulator.config import WebhookEndpoint
from propdesk_kyc_sumsub.simulator.control_client import SumsubSimulatorControl
from propdesk_kyc_sumsub.simulator.records import SimError
from propdesk_kyc_sumsub.simulator.state import Fault, Simulator

__all__ = ["SumsubSimulatorControl", "control_router"]

Data = JSONBody[dict[str, Any]]


def _refused(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, SimError):
        return Response({"detail": exc.description}, status_code=exc.status)
    return Response({"detail": f"{type(exc).__name__}: {exc}"}, status_code=400)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def control_router(sim: Simulator) -> Router:
    lock, sender = sim.lock, sim.sender

    def applicant_view(applicant_id: FromPath[str]) -> dict[str, Any]:
        applicant = sim.applicant(applicant_id)
        view = applicant.applicant_json(sim.config.client_id)
        view["simulator"] = {"docs_submitted": applicant.docs_submitted}
        return view

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, Any]:
        with lock:
            return {
                "status": "ok",
                "now": sim.now(),
                "applicants": len(sim.applicants),
                "deliveries_due": sender.due_count(),
            }

    @post("/reset", status_code=200, sync_to_thread=False)
    def reset() -> dict[str, Any]:
        sim.reset()
        return {"ok": True}

    @get("/clock", sync_to_thread=False)
    def clock() -> dict[str, Any]:
        return {"now": sim.now(), "offset_seconds": sim.offset}

    @post("/clock", status_code=200, sync_to_thread=False)
    def advance_clock(data: Data) -> dict[str, Any]:
        sim.advance(float(data["advance_seconds"]))
        return {"now": sim.now(), "offset_seconds": sim.offset}

    @get("/applicants", sync_to_thread=False)
    def applicants() -> list[dict[str, Any]]:
        with lock:
            return [applicant_view(a) for a in sim.applicants]

    @get("/applicants/{applicant_id:str}", sync_to_thread=False)
    def applicant(applicant_id: FromPath[str]) -> dict[str, Any]:
        with lock:
            return applicant_view(applicant_id)

    @post("/applicants/{applicant_id:str}/review", status_code=200, sync_to_thread=False)
    def review(applicant_id: FromPath[str], data: Data) -> dict[str, Any]:
        labels = data.get("labels") or []
        if not isinstance(labels, list):
            raise ValueError("labels is a list of strings")
        with lock:
            sim.review(
                sim.applicant(applicant_id),
                str(data["answer"]),
                reject_type=data.get("reject_type"),
                labels=labels,
                moderation_comment=data.get("moderation_comment"),
                client_comment=data.get("client_comment"),
            )
            return applicant_view(applicant_id)

    @post("/applicants/{applicant_id:str}/submit", status_code=200, sync_to_thread=False)
    def submit(
        applicant_id: FromPath[str], data: JSONBody[dict[str, Any] | None] = None
    ) -> dict[str, Any]:
        with lock:
            sim.submit(sim.applicant(applicant_id), pending=bool((data or {}).get("pending", True)))
            return applicant_view(applicant_id)

    @post("/applicants/{applicant_id:str}/reset", status_code=200, sync_to_thread=False)
    def reset_applicant(applicant_id: FromPath[str]) -> dict[str, Any]:
        with lock:
            sim.reset_applicant(sim.applicant(applicant_id))
            return applicant_view(applicant_id)

    @get("/events", sync_to_thread=False)
    def events() -> list[dict[str, Any]]:
        with lock:
            return list(sim.events)

    @get("/webhooks", sync_to_thread=False)
    def webhooks() -> list[dict[str, Any]]:
        with lock:
            return [e.view() for e in sender.endpoints]

    @post("/webhooks", status_code=200, sync_to_thread=False)
    def add_webhook(data: Data) -> dict[str, Any]:
        hook = WebhookEndpoint(
            url=str(data["url"]),
            secret=str(data.get("secret") or sim.config.webhook_secret),
            algorithm=str(data.get("algorithm") or "HMAC_SHA256_HEX"),
            types=tuple(str(t) for t in data.get("types") or ()),
        )
        return sender.add_endpoint(hook).view()

    @delete("/webhooks", status_code=200, sync_to_thread=False)
    def clear_webhooks() -> dict[str, Any]:
        sender.clear_endpoints()
        return {"ok": True}

    @get("/webhooks/mode", sync_to_thread=False)
    def mode() -> dict[str, Any]:
        with lock:
            return sender.mode.view()

    @post("/webhooks/mode", status_code=200, sync_to_thread=False)
    def set_mode(data: Data) -> dict[str, Any]:
        return sender.set_mode(data).view()

    @post("/webhooks/release", status_code=200, sync_to_thread=False)
    def release(data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        body = data or {}
        count = sender.release(str(body.get("order", "fifo")), _optional_int(body.get("seed")))
        return {"released": count}

    @get("/deliveries", sync_to_thread=False)
    def deliveries(
        wanted: Annotated[str | None, QueryParameter(name="state")] = None,
    ) -> list[dict[str, Any]]:
        with lock:
            found = [d.view() for d in sender.deliveries.values()]
        return [d for d in found if wanted is None or d["state"] == wanted]

    @get("/requests", sync_to_thread=False)
    def requests(path: FromQuery[str | None] = None) -> list[dict[str, Any]]:
        with lock:
            return [r for r in sim.requests if path is None or r["path"].startswith(path)]

    @delete("/requests", status_code=200, sync_to_thread=False)
    def clear_requests() -> dict[str, Any]:
        with lock:
            sim.requests.clear()
        return {"ok": True}

    @post("/limits", status_code=200, sync_to_thread=False)
    def limits(data: Data) -> dict[str, Any]:
        with lock:
            for kind in ("GET", "POST"):
                if kind.lower() in data:
                    sim.limits[kind] = _optional_int(data[kind.lower()])
            return {k.lower(): v for k, v in sim.limits.items()}

    @get("/faults", sync_to_thread=False)
    def faults() -> list[dict[str, Any]]:
        with lock:
            return [f.view() for f in sim.faults]

    @post("/faults", status_code=200, sync_to_thread=False)
    def add_fault(data: Data) -> dict[str, Any]:
        action = str(data.get("action", "status"))
        if action not in ("status", "drop"):
            raise ValueError("action is status or drop")
        fault = Fault(
            path=str(data.get("path", "/resources/")),
            action=action,
            status=int(data.get("status", 503)),
            count=int(data.get("count", 1)),
            retry_after=None if data.get("retry_after") is None else float(data["retry_after"]),
            description=str(data.get("description") or Fault.description),
        )
        with lock:
            sim.faults.append(fault)
        return fault.view()

    @delete("/faults", status_code=200, sync_to_thread=False)
    def clear_faults() -> dict[str, Any]:
        with lock:
            sim.faults.clear()
        return {"ok": True}

    return Router(
        path="/__sim__",
        route_handlers=[
            health,
            reset,
            clock,
            advance_clock,
            applicants,
            applicant,
            review,
            submit,
            reset_applicant,
            events,
            webhooks,
            add_webhook,
            clear_webhooks,
            mode,
            set_mode,
            release,
            deliveries,
            requests,
            clear_requests,
            limits,
            faults,
            add_fault,
            clear_faults,
        ],
        exception_handlers={
            SimError: _refused,
            ValueError: _refused,
            KeyError: _refused,
            TypeError: _refused,
        },
    )
