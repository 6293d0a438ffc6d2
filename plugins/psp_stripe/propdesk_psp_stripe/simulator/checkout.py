"""Checkout Sessions (mode=payment): creation with Stripe's validation, payment with an
outcome (card success or decline, async success or failure), expiry, and their events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from propdesk_psp_stripe.simulator import payments
from propdesk_psp_stripe.simulator.errors import conflict, invalid, missing
from propdesk_psp_stripe.simulator.forms import (
    as_dict,
    as_list,
    boolean,
    check_known,
    integer,
    metadata,
    text,
)
from propdesk_psp_stripe.simulator.store import Obj, new_id

if TYPE_CHECKING:
    from propdesk_psp_stripe.simulator.core import Simulator

OUTCOMES = ("succeeded", "declined", "async_succeeded", "async_failed")
SESSION_PARAMS = (
    "mode", "line_items", "success_url", "cancel_url", "client_reference_id", "customer_email",
    "customer", "metadata", "payment_intent_data", "discounts", "allow_promotion_codes",
    "expires_at", "payment_method_types", "locale", "submit_type",
    "billing_address_collection", "customer_creation", "expand",
)  # fmt: skip
INTENT_DATA_PARAMS = ("metadata", "description", "receipt_email", "statement_descriptor_suffix")
MIN_EXPIRY, MAX_EXPIRY = 30 * 60, 24 * 3600
#: Leeway on the expires_at bounds for the client's clock and rounding.
EXPIRY_SLACK = 60
CUSTOMER: dict[str, Any] = {
    "address": None, "name": "Test Customer", "phone": None, "tax_exempt": "none", "tax_ids": [],
}  # fmt: skip


@dataclass
class SessionState:
    """What a session keeps that its JSON does not show."""

    intent_metadata: dict[str, str] = field(default_factory=dict)
    intent_description: str | None = None
    receipt_email: str | None = None
    #: An async payment waiting to settle: "async_succeeded" or "async_failed".
    pending: str | None = None


def _line_items(sim: Simulator, raw: Any) -> list[Obj]:
    items = as_list(raw, "line_items")
    if not items:
        raise missing("line_items")
    result = []
    for index, item in enumerate(items):
        label = f"line_items[{index}]"
        item = as_dict(item, label)
        check_known(item, ("price_data", "quantity"), label)
        quantity = integer(item, "quantity", required=True, minimum=1, param=f"{label}[quantity]")
        if "price_data" not in item:
            raise missing(f"{label}[price_data]")
        price = as_dict(item["price_data"], f"{label}[price_data]")
        plabel = f"{label}[price_data]"
        check_known(price, ("currency", "unit_amount", "product_data"), plabel)
        currency = text(price, "currency", required=True, param=f"{plabel}[currency]")
        unit = integer(
            price, "unit_amount", required=True, minimum=0, param=f"{plabel}[unit_amount]"
        )
        product = as_dict(price.get("product_data", {}), f"{plabel}[product_data]")
        product_fields = ("name", "description", "images", "metadata")
        check_known(product, product_fields, f"{plabel}[product_data]")
        name = text(product, "name", required=True, param=f"{plabel}[product_data][name]")
        assert currency is not None and unit is not None and quantity is not None
        currency = currency.lower()
        result.append({
            "id": new_id("li_"), "object": "item", "amount_discount": 0,
            "amount_subtotal": unit * quantity, "amount_tax": 0, "amount_total": unit * quantity,
            "currency": currency, "description": name, "quantity": quantity,
            "price": {
                "id": new_id("price_"), "object": "price", "active": False,
                "billing_scheme": "per_unit", "created": sim.clock.now(), "currency": currency,
                "livemode": False, "lookup_key": None, "metadata": {}, "nickname": None,
                "product": new_id("prod_"), "recurring": None, "tax_behavior": "unspecified",
                "type": "one_time", "unit_amount": unit, "unit_amount_decimal": str(unit),
            },
        })  # fmt: skip
    if len({item["currency"] for item in result}) > 1:
        raise invalid("Checkout does not support multiple currencies.", "line_items")
    return result


def _discount(
    sim: Simulator, params: dict[str, Any], subtotal: int, currency: str
) -> tuple[list[Obj], int]:
    raw = as_list(params.get("discounts", []), "discounts")
    if not raw:
        return [], 0
    if len(raw) > 1:
        raise invalid("You may only specify one discount.", "discounts")
    if boolean(params, "allow_promotion_codes"):
        raise invalid(
            "You may only specify one of these parameters: allow_promotion_codes, discounts."
        )
    entry = as_dict(raw[0], "discounts[0]")
    check_known(entry, ("coupon",), "discounts[0]")
    coupon_id = text(entry, "coupon", required=True, param="discounts[0][coupon]")
    assert coupon_id is not None
    coupon = sim.coupons.get(coupon_id)
    if coupon is None:
        raise invalid(f"No such coupon: '{coupon_id}'", "discounts[0][coupon]", "resource_missing")
    if coupon.get("percent_off") is not None:
        amount = round(subtotal * float(coupon["percent_off"]) / 100)
    else:
        if str(coupon.get("currency", currency)).lower() != currency:
            raise invalid(f"Coupon {coupon_id} is not in {currency}.", "discounts[0][coupon]")
        amount = int(coupon.get("amount_off", 0))
    return [{"coupon": coupon_id, "promotion_code": None}], min(amount, subtotal)


def _spread(items: list[Obj], discount: int) -> None:
    """The session's discount shared among its line items in proportion."""
    subtotal, left = sum(item["amount_subtotal"] for item in items), discount
    for index, item in enumerate(items):
        share = left if index == len(items) - 1 else discount * item["amount_subtotal"] // subtotal
        item["amount_discount"], left = share, left - share
        item["amount_total"] = item["amount_subtotal"] - share


def create_session(sim: Simulator, params: dict[str, Any], base_url: str) -> Obj:
    check_known(params, SESSION_PARAMS)
    mode = text(params, "mode", required=True)
    if mode != "payment":
        raise invalid("The simulator supports mode=payment only.", "mode")
    items = _line_items(sim, params.get("line_items"))
    currency = items[0]["currency"]
    subtotal = sum(item["amount_subtotal"] for item in items)
    discounts, discount = _discount(sim, params, subtotal, currency)
    _spread(items, discount)
    if subtotal - discount < 50:
        raise invalid(
            "The Checkout Session's total amount due must add up to at least 50 in the "
            f"currency's minor unit ({currency}).",
            "line_items",
        )
    now = sim.clock.now()
    expires_at = integer(params, "expires_at") or now + MAX_EXPIRY
    if expires_at < now + MIN_EXPIRY - EXPIRY_SLACK:
        raise invalid(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
            "expires_at",
        )
    if expires_at > now + MAX_EXPIRY + EXPIRY_SLACK:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            "expires_at",
        )
    intent_data = as_dict(params.get("payment_intent_data", {}), "payment_intent_data")
    check_known(intent_data, INTENT_DATA_PARAMS, "payment_intent_data")
    raw_methods = as_list(params.get("payment_method_types", ["card"]), "payment_method_types")
    methods = [str(method) for method in raw_methods]
    email = text(params, "customer_email", max_length=800)
    ident = new_id("cs_test_", 58)
    session = sim.store.add({
        "id": ident, "object": "checkout.session", "adaptive_pricing": None,
        "after_expiration": None, "allow_promotion_codes": boolean(params, "allow_promotion_codes"),
        "amount_subtotal": subtotal, "amount_total": subtotal - discount,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": text(params, "billing_address_collection"),
        "cancel_url": text(params, "cancel_url"),
        "client_reference_id": text(params, "client_reference_id", max_length=200),
        "client_secret": None, "consent": None, "consent_collection": None, "created": now,
        "currency": currency, "custom_fields": [], "customer": text(params, "customer"),
        "customer_creation": text(params, "customer_creation") or "if_required",
        "customer_details": None, "customer_email": email, "discounts": discounts,
        "expires_at": expires_at, "invoice": None, "livemode": False,
        "locale": text(params, "locale"), "metadata": metadata(params.get("metadata")),
        "mode": "payment", "payment_intent": None, "payment_link": None,
        "payment_method_collection": "if_required", "payment_method_options": {},
        "payment_method_types": methods or ["card"], "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "setup_intent": None, "shipping_address_collection": None, "shipping_cost": None,
        "shipping_options": [], "status": "open", "submit_type": text(params, "submit_type"),
        "subscription": None, "success_url": text(params, "success_url"),
        "total_details": {"amount_discount": discount, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": f"{sim.public_url(base_url)}/checkout/{ident}",
    })  # fmt: skip
    sim.store.line_items[ident] = items
    sim.checkout[ident] = SessionState(
        metadata(intent_data.get("metadata"), "payment_intent_data[metadata]"),
        text(intent_data, "description", param="payment_intent_data[description]"),
        text(intent_data, "receipt_email", param="payment_intent_data[receipt_email]") or email,
    )
    return session


def _open(sim: Simulator, session_id: str) -> Obj:
    session = sim.store.require("checkout.session", session_id, "session")
    if session["status"] != "open":
        raise conflict(
            f"This Checkout Session is {session['status']}; it can no longer be paid.",
            "checkout_session_not_open",
            "session",
        )
    return session


def _complete(session: Obj, state: SessionState, payment_status: str) -> None:
    email = state.receipt_email or "customer@example.com"
    session.update(status="complete", payment_status=payment_status, url=None)
    session["customer_details"] = {**CUSTOMER, "email": email}


def pay(sim: Simulator, session_id: str, outcome: str, settle: bool = True) -> Obj:
    """Pays an open session with one outcome. ``settle=False`` leaves an async payment
    processing until ``settle``."""
    if outcome not in OUTCOMES:
        raise invalid(f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
    with sim.lock:
        session, state = _open(sim, session_id), sim.checkout[session_id]
        intent = sim.store.get("payment_intent", session["payment_intent"] or "")
        if intent is None:
            # The PaymentIntent exists from the first attempt; later attempts reuse it.
            intent = payments.new_payment_intent(
                sim, amount=session["amount_total"], currency=session["currency"],
                meta=state.intent_metadata, description=state.intent_description,
                email=state.receipt_email, method_types=session["payment_method_types"],
            )  # fmt: skip
            session["payment_intent"] = intent["id"]
        if outcome == "succeeded":
            charge = payments.new_charge(sim, intent, "card", "succeeded")
            payments.succeed(sim, intent, charge)
            _complete(session, state, "paid")
            sim.emit("checkout.session.completed", session)
            sim.emit("payment_intent.succeeded", intent)
        elif outcome == "declined":
            charge = payments.new_charge(sim, intent, "card_declined", "failed")
            payments.fail(sim, intent, charge, "card_declined", "Your card was declined.")
            sim.emit("payment_intent.payment_failed", intent)
        else:
            kinds = [kind for kind in session["payment_method_types"] if kind != "card"]
            payments.new_charge(sim, intent, kinds[0] if kinds else "sepa_debit", "pending")
            _complete(session, state, "unpaid")
            state.pending = outcome
            sim.emit("checkout.session.completed", session)
            if settle:
                settle_async(sim, session_id)
        return session


def settle_async(sim: Simulator, session_id: str) -> Obj:
    """An async payment's result: async_payment_succeeded or async_payment_failed."""
    with sim.lock:
        session = sim.store.require("checkout.session", session_id, "session")
        state = sim.checkout[session_id]
        if state.pending is None:
            raise conflict(f"{session_id} has no async payment to settle.", "nothing_to_settle")
        intent = sim.store.require("payment_intent", session["payment_intent"])
        charge = sim.store.require("charge", intent["latest_charge"])
        outcome, state.pending = state.pending, None
        if outcome == "async_succeeded":
            payments.succeed(sim, intent, charge)
            session["payment_status"] = "paid"
            sim.emit("checkout.session.async_payment_succeeded", session)
            sim.emit("payment_intent.succeeded", intent)
        else:
            message = "The customer's account has insufficient funds to cover this payment."
            payments.fail(sim, intent, charge, "insufficient_funds", message)
            sim.emit("checkout.session.async_payment_failed", session)
            sim.emit("payment_intent.payment_failed", intent)
        return session


def expire(sim: Simulator, session_id: str) -> Obj:
    """checkout.session.expired; a PaymentIntent of declined attempts is canceled."""
    with sim.lock:
        session = sim.store.require("checkout.session", session_id, "session")
        if session["status"] != "open":
            raise conflict(
                'Only Checkout Sessions with a status in ["open"] can be expired.',
                "checkout_session_not_open",
                "session",
            )
        session.update(status="expired", url=None)
        intent = sim.store.get("payment_intent", session["payment_intent"] or "")
        if intent is not None and intent["status"] == "requires_payment_method":
            intent.update(
                status="canceled", canceled_at=sim.clock.now(), cancellation_reason="abandoned"
            )
            sim.emit("payment_intent.canceled", intent)
        sim.emit("checkout.session.expired", session)
        return session


def expire_due(sim: Simulator) -> None:
    now = sim.clock.now()
    for session in list(sim.store.objects.get("checkout.session", {}).values()):
        if session["status"] == "open" and session["expires_at"] <= now:
            expire(sim, session["id"])
