"""PaymentIntents and their charges, refunds (``POST /v1/refunds``) and disputes (opened and
closed through the control API), with the events each change gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from propdesk_psp_stripe.simulator.errors import conflict, invalid
from propdesk_psp_stripe.simulator.forms import check_known, choice, integer, metadata, text
from propdesk_psp_stripe.simulator.store import Obj, new_id

if TYPE_CHECKING:
    from propdesk_psp_stripe.simulator.core import Simulator

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
REFUND_PARAMS = ("payment_intent", "charge", "amount", "reason", "metadata", "expand")
DISPUTE_REASONS = (
    "bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
    "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details",
    "insufficient_funds", "product_not_received", "product_unacceptable",
    "subscription_canceled", "unrecognized",
)  # fmt: skip
OPEN_DISPUTE = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
#: Test cards: 4242 pays, 0002 is declined.
CARDS = {"card": "4242", "card_declined": "0002"}


def money(amount: int, currency: str) -> str:
    return f"${amount / 100:.2f}" if currency == "usd" else f"{amount / 100:.2f} {currency}"


def method_details(kind: str) -> Obj:
    if kind in CARDS:
        card = {
            "brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2034,
            "funding": "credit", "last4": CARDS[kind], "network": "visa",
            "checks": {"address_line1_check": None, "address_postal_code_check": None,
                       "cvc_check": "pass"},
        }  # fmt: skip
        return {"type": "card", "card": card}
    return {"type": kind, kind: {"last4": "3000", "country": "DE"}}


def balance_transaction(sim: Simulator, amount: int, currency: str, category: str) -> Obj:
    return {
        "id": new_id("txn_"), "object": "balance_transaction", "amount": amount,
        "currency": currency, "created": sim.clock.now(), "fee": 0, "net": amount,
        "reporting_category": category, "status": "available", "type": "adjustment",
    }  # fmt: skip


def new_payment_intent(
    sim: Simulator,
    *,
    amount: int,
    currency: str,
    meta: dict[str, str],
    description: str | None,
    email: str | None,
    method_types: list[str],
) -> Obj:
    ident = new_id("pi_")
    return sim.store.add({
        "id": ident, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
        "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{ident}_secret_{new_id('', 25)}", "confirmation_method": "automatic",
        "created": sim.clock.now(), "currency": currency, "customer": None,
        "description": description, "last_payment_error": None, "latest_charge": None,
        "livemode": False, "metadata": dict(meta), "next_action": None, "on_behalf_of": None,
        "payment_method": None, "payment_method_configuration_details": None,
        "payment_method_options": {}, "payment_method_types": list(method_types),
        "processing": None, "receipt_email": email, "review": None, "setup_future_usage": None,
        "shipping": None, "source": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": "requires_payment_method",
        "transfer_data": None, "transfer_group": None,
    })  # fmt: skip


def new_charge(sim: Simulator, intent: Obj, kind: str, status: str) -> Obj:
    """A charge of ``intent`` paid with ``kind`` (``card``, ``card_declined`` or an async
    method type); ``status`` is succeeded, pending or failed."""
    details = method_details(kind)
    method = new_id("pm_")
    charge = sim.store.add({
        "id": new_id("ch_"), "object": "charge", "amount": intent["amount"],
        "amount_captured": 0, "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": None, "balance_transaction": None,
        "billing_details": {"address": None, "email": intent["receipt_email"], "name": None,
                            "phone": None},
        "calculated_statement_descriptor": "PROPDESK", "captured": False,
        "created": sim.clock.now(), "currency": intent["currency"], "customer": None,
        "description": intent["description"], "disputed": False,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "livemode": False, "metadata": dict(intent["metadata"]),
        "on_behalf_of": None, "outcome": None, "paid": False, "payment_intent": intent["id"],
        "payment_method": method, "payment_method_details": details,
        "receipt_email": intent["receipt_email"], "receipt_number": None, "receipt_url": None,
        "refunded": False, "review": None, "shipping": None, "source": None,
        "source_transfer": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": status, "transfer_data": None,
        "transfer_group": None,
    })  # fmt: skip
    intent["latest_charge"], intent["payment_method"] = charge["id"], method
    intent["payment_method_types"] = sorted({*intent["payment_method_types"], details["type"]})
    if status == "pending":
        intent["status"] = "processing"
        intent["processing"] = {"type": details["type"]}
    return charge


def succeed(sim: Simulator, intent: Obj, charge: Obj) -> None:
    charge.update(
        status="succeeded", paid=True, captured=True, amount_captured=charge["amount"],
        balance_transaction=new_id("txn_"),
        outcome={"network_status": "approved_by_network", "reason": None,
                 "risk_level": "normal", "risk_score": 32,
                 "seller_message": "Payment complete.", "type": "authorized"},
        receipt_url=f"https://pay.stripe.com/receipts/payment/{new_id('', 40)}",
    )  # fmt: skip
    intent.update(
        status="succeeded", amount_received=intent["amount"], processing=None,
        last_payment_error=None,
    )  # fmt: skip


def fail(sim: Simulator, intent: Obj, charge: Obj, code: str, message: str) -> None:
    decline = "generic_decline" if code == "card_declined" else None
    charge.update(
        status="failed", failure_code=code, failure_message=message,
        outcome={"network_status": "declined_by_network", "reason": decline or code,
                 "risk_level": "normal", "risk_score": 40, "type": "issuer_declined",
                 "seller_message": "The bank did not return any further details with this "
                                   "decline."},
    )  # fmt: skip
    intent.update(
        status="requires_payment_method", processing=None,
        last_payment_error={
            "type": "card_error" if decline else "invalid_request_error", "code": code,
            "decline_code": decline, "message": message, "charge": charge["id"],
            "payment_method": {"id": charge["payment_method"], "object": "payment_method",
                               **charge["payment_method_details"]},
        },
    )  # fmt: skip


# refunds


def _charge_to_refund(sim: Simulator, intent_id: str | None, charge_id: str | None) -> Obj:
    store = sim.store
    if intent_id is None and charge_id is None:
        raise invalid(
            "One of the following params should be provided for this request: "
            "payment_intent or charge."
        )
    charge = store.require("charge", charge_id, "charge") if charge_id else None
    if intent_id is not None:
        intent = store.require("payment_intent", intent_id, "payment_intent")
        if charge is None:
            if intent["status"] != "succeeded" or intent["latest_charge"] is None:
                raise conflict(
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    "charge_not_refundable",
                    "payment_intent",
                )
            charge = store.require("charge", intent["latest_charge"])
        elif charge["payment_intent"] != intent_id:
            raise invalid(f"Charge {charge['id']} does not belong to {intent_id}.", "charge")
    assert charge is not None
    if charge["status"] != "succeeded":
        raise conflict(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.",
            "charge_not_refundable",
        )
    if charge["disputed"]:
        raise conflict(
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            "charge_disputed",
        )
    return charge


def create_refund(sim: Simulator, params: dict[str, Any]) -> Obj:
    """Full or partial; events refund.created (pending), charge.refunded, then
    refund.updated (succeeded)."""
    check_known(params, REFUND_PARAMS)
    charge = _charge_to_refund(sim, text(params, "payment_intent"), text(params, "charge"))
    amount = integer(params, "amount", minimum=1)
    reason = choice(params, "reason", REFUND_REASONS)
    meta = metadata(params.get("metadata"))
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise conflict(
            f"Charge {charge['id']} has already been refunded.", "charge_already_refunded"
        )
    if amount is not None and amount > remaining:
        currency = charge["currency"]
        raise conflict(
            f"Refund amount ({money(amount, currency)}) is greater than unrefunded amount on "
            f"charge ({money(remaining, currency)})",
            "amount_too_large",
            "amount",
        )
    amount = amount or remaining
    refund = sim.store.add({
        "id": new_id("re_"), "object": "refund", "amount": amount,
        "balance_transaction": None, "charge": charge["id"], "created": sim.clock.now(),
        "currency": charge["currency"],
        "destination_details": {"type": charge["payment_method_details"]["type"]},
        "metadata": meta, "payment_intent": charge["payment_intent"], "reason": reason,
        "receipt_number": None, "source_transfer_reversal": None, "status": "pending",
        "transfer_reversal": None,
    })  # fmt: skip
    sim.emit("refund.created", refund)
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    sim.emit("charge.refunded", charge, previous)
    refund.update(status="succeeded", balance_transaction=new_id("txn_"))
    sim.emit("refund.updated", refund, {"status": "pending", "balance_transaction": None})
    return refund


# disputes


def open_dispute(
    sim: Simulator,
    *,
    charge_id: str | None,
    intent_id: str | None,
    reason: str = "fraudulent",
    amount: int | None = None,
) -> Obj:
    """charge.dispute.created, then charge.dispute.funds_withdrawn."""
    store = sim.store
    if charge_id is None:
        if intent_id is None:
            raise invalid("Give payment_intent or charge.", "charge")
        intent = store.require("payment_intent", intent_id, "payment_intent")
        charge_id = intent["latest_charge"]
        if charge_id is None:
            raise conflict(f"{intent_id} has no charge to dispute.", "charge_not_disputable")
    charge = store.require("charge", charge_id, "charge")
    if charge["status"] != "succeeded" or charge["disputed"]:
        raise conflict(
            f"Charge {charge_id} cannot be disputed (not succeeded, or disputed already).",
            "charge_not_disputable",
        )
    if reason not in DISPUTE_REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(DISPUTE_REASONS)}", "reason")
    amount = charge["amount"] if amount is None else amount
    if not 0 < amount <= charge["amount"]:
        raise invalid("The disputed amount must be positive and at most the charge's.", "amount")
    now = sim.clock.now()
    dispute = store.add({
        "id": new_id("dp_"), "object": "dispute", "amount": amount, "balance_transactions": [],
        "charge": charge_id, "created": now, "currency": charge["currency"],
        "evidence": {"customer_email_address": charge["receipt_email"], "product_description":
                     None, "uncategorized_text": None},
        "evidence_details": {"due_by": now + 7 * 86400, "has_evidence": False,
                             "past_due": False, "submission_count": 0},
        "is_charge_refundable": False, "livemode": False, "metadata": {},
        "network_reason_code": "10.4", "payment_intent": charge["payment_intent"],
        "payment_method_details": {"type": "card", "card": {"brand": "visa",
                                                            "network_reason_code": "10.4"}},
        "reason": reason, "status": "needs_response",
    })  # fmt: skip
    charge["disputed"] = True
    sim.emit("charge.dispute.created", dispute)
    withdrawal = balance_transaction(sim, -amount, charge["currency"], "dispute")
    dispute["balance_transactions"].append(withdrawal)
    sim.emit("charge.dispute.funds_withdrawn", dispute)
    return dispute


def close_dispute(sim: Simulator, dispute_id: str, status: str) -> Obj:
    """charge.dispute.closed (won or lost); a won one also gives funds_reinstated."""
    dispute = sim.store.require("dispute", dispute_id, "dispute")
    if status not in ("won", "lost"):
        raise invalid("status must be won or lost", "status")
    if dispute["status"] not in OPEN_DISPUTE:
        raise conflict(f"Dispute {dispute_id} is closed already.", "dispute_already_closed")
    previous = {"status": dispute["status"]}
    dispute["status"] = status
    sim.emit("charge.dispute.closed", dispute, previous)
    if status == "won":
        reinstated = balance_transaction(sim, dispute["amount"], dispute["currency"], "dispute")
        dispute["balance_transactions"].append(reinstated)
        sim.emit("charge.dispute.funds_reinstated", dispute)
    return dispute
