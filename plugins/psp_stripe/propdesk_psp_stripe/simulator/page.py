"""The hosted checkout page a session's ``url`` points to: ``GET /checkout/{id}`` shows the
order with Pay and Cancel buttons that POST back here, then redirect (303) to the session's
``success_url`` (``{CHECKOUT_SESSION_ID}`` filled in) or ``cancel_url``."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.enums import MediaType
from litestar.params import FromPath

from propdesk_psp_stripe.simulator import checkout
from propdesk_psp_stripe.simulator.api import form_pairs
from propdesk_psp_stripe.simulator.core import Simulator
from propdesk_psp_stripe.simulator.errors import StripeError
from propdesk_psp_stripe.simulator.store import Obj

STYLE = "body{font-family:sans-serif;max-width:32em;margin:2em auto}button{margin:.3em}"
TEST_OUTCOMES = (
    ("declined", "Pay with a declined card"),
    ("async_succeeded", "Pay by bank debit (succeeds later)"),
    ("async_failed", "Pay by bank debit (fails later)"),
)


def _amount(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def render(session: Obj, items: list[Obj], message: str | None = None) -> str:
    ident = escape(session["id"])
    rows = "".join(
        f"<li>{escape(item['description'])} x {item['quantity']}: "
        f"{_amount(item['amount_total'], item['currency'])}</li>"
        for item in items
    )
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Checkout {ident}</title>"
        f"<style>{STYLE}</style></head><body><h1>Stripe simulator checkout</h1>",
        f"<ul id='items'>{rows}</ul>",
        f"<p>Total: <strong id='total'>{_amount(session['amount_total'], session['currency'])}"
        f"</strong></p><p>Status: <span id='status'>{escape(session['status'])}</span></p>",
    ]
    if message:
        parts.append(f"<p id='message' role='alert'>{escape(message)}</p>")
    if session["status"] == "open":
        pay = f"/checkout/{ident}/pay"
        parts.append(
            f"<form id='pay' method='post' action='{pay}'>"
            "<input type='hidden' name='outcome' value='succeeded'>"
            "<button type='submit' id='pay-button'>Pay</button></form>"
        )
        parts.append(
            f"<form id='cancel' method='post' action='/checkout/{ident}/cancel'>"
            "<button type='submit' id='cancel-button'>Cancel</button></form>"
        )
        parts += [
            f"<form class='test-outcome' method='post' action='{pay}'>"
            f"<input type='hidden' name='outcome' value='{outcome}'>"
            f"<button type='submit' id='{outcome}-button'>{label}</button></form>"
            for outcome, label in TEST_OUTCOMES
        ]
    parts.append("</body></html>")
    return "".join(parts)


def _page(html: str, status: int = 200) -> Response[str]:
    return Response(html, status_code=status, media_type=MediaType.HTML)


def _redirect(url: str) -> Response[str]:
    return Response("", status_code=303, headers={"Location": url}, media_type=MediaType.TEXT)


def page_router(sim: Simulator) -> Router:
    def _session(session_id: str) -> Obj | None:
        with sim.lock:
            sim.touch()
            return sim.store.get("checkout.session", session_id)

    @get("/{session_id:str}", sync_to_thread=False)
    def show(session_id: FromPath[str]) -> Response[str]:
        session = _session(session_id)
        if session is None:
            return _page("<p>No such checkout session.</p>", 404)
        with sim.lock:
            return _page(render(session, sim.store.line_items.get(session_id, [])))

    @post("/{session_id:str}/pay", status_code=200)
    async def pay(session_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        outcome = form_pairs(await request.body()).get("outcome", "succeeded")
        if _session(session_id) is None:
            return _page("<p>No such checkout session.</p>", 404)
        with sim.lock:
            try:
                session = checkout.pay(sim, session_id, outcome)
            except StripeError as error:
                current = sim.store.require("checkout.session", session_id)
                items = sim.store.line_items.get(session_id, [])
                return _page(render(current, items, error.message), 400)
            items = sim.store.line_items.get(session_id, [])
            if session["status"] == "open":  # declined: the customer may try again
                return _page(render(session, items, "Your card was declined."), 402)
            if session["success_url"]:
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
                return _redirect(target)
            return _page(render(session, items, "Payment complete."))

    @post("/{session_id:str}/cancel", status_code=200, sync_to_thread=False)
    def cancel(session_id: FromPath[str]) -> Response[str]:
        session = _session(session_id)
        if session is None:
            return _page("<p>No such checkout session.</p>", 404)
        if session["cancel_url"]:
            return _redirect(session["cancel_url"])
        with sim.lock:
            items = sim.store.line_items.get(session_id, [])
            return _page(render(session, items, "Checkout cancelled."))

    return Router("/checkout", route_handlers=[show, pay, cancel])
