"""Connect: connected accounts (registered through the control API), the platform's available
balance, and transfers (``POST /v1/transfers``) from that balance to a connected account."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from propdesk_psp_stripe.simulator.errors import conflict, invalid
from propdesk_psp_stripe.simulator.forms import check_known, choice, integer, metadata, text
from propdesk_psp_stripe.simulator.store import Obj, new_id

if TYPE_CHECKING:
    from propdesk_psp_stripe.simulator.core import Simulator

ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]+$")
TRANSFER_PARAMS = (
    "amount", "currency", "destination", "transfer_group", "description", "metadata",
    "source_transaction", "source_type", "expand",
)  # fmt: skip
SOURCE_TYPES = ("bank_account", "card", "fpx")


def add_account(sim: Simulator, ident: str | None = None, email: str | None = None) -> Obj:
    """A connected account able to receive transfers; an id already known is kept as it is."""
    ident = ident or new_id("acct_", 16)
    if not ACCOUNT_ID.match(ident):
        raise invalid(f"Invalid account id: {ident} (acct_ and letters or digits)", "id")
    with sim.lock:
        found = sim.store.get("account", ident)
        if found is not None:
            return found
        return sim.store.add({
            "id": ident, "object": "account", "type": "express", "country": "US",
            "email": email, "created": sim.clock.now(), "default_currency": "usd",
            "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
            "capabilities": {"transfers": "active"}, "metadata": {},
        })  # fmt: skip


def available(sim: Simulator, currency: str) -> int:
    """The platform's available balance in ``currency`` (minor units)."""
    return sim.balances.get(currency, sim.config.available_balance)


def set_balance(sim: Simulator, currency: str, amount: int) -> None:
    if not re.fullmatch(r"[a-z]{3}", currency) or amount < 0:
        raise invalid("a balance is a lower-case ISO currency and an amount >= 0")
    sim.balances[currency] = amount


def balance(sim: Simulator) -> Obj:
    """``GET /v1/balance``: the currencies used or set so far (usd at least)."""

    def funds(currency: str, amount: int) -> Obj:
        return {"amount": amount, "currency": currency, "source_types": {"card": amount}}

    currencies = sorted({"usd", *sim.balances})
    return {
        "object": "balance",
        "available": [funds(c, available(sim, c)) for c in currencies],
        "pending": [funds(c, 0) for c in currencies],
        "livemode": False,
    }


def create_transfer(sim: Simulator, params: dict[str, Any]) -> Obj:
    """From the available balance to ``destination``; event transfer.created."""
    check_known(params, TRANSFER_PARAMS)
    amount = integer(params, "amount", required=True, minimum=1)
    currency = (text(params, "currency", required=True) or "").lower()
    destination = text(params, "destination", required=True) or ""
    group = text(params, "transfer_group")
    description = text(params, "description")
    meta = metadata(params.get("metadata"))
    source = text(params, "source_transaction")
    source_type = choice(params, "source_type", SOURCE_TYPES) or "card"
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise invalid(f"Invalid currency: {currency}.", "currency")
    if sim.store.get("account", destination) is None:
        # Not saved under the key: it failed before the transfer began.
        raise invalid(
            f"No such destination: '{destination}'", "destination", code="account_invalid"
        )
    assert amount is not None
    if amount > available(sim, currency):
        raise conflict(
            "You have insufficient available funds in your Stripe account. Try adding funds "
            "directly to your available balance by creating Top-ups.",
            "balance_insufficient",
        )
    sim.balances[currency] = available(sim, currency) - amount
    ident = new_id("tr_")
    transfer = sim.store.add({
        "id": ident, "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": new_id("txn_"), "created": sim.clock.now(),
        "currency": currency, "description": description, "destination": destination,
        "destination_payment": new_id("py_"), "livemode": False, "metadata": meta,
        "reversals": {"object": "list", "data": [], "has_more": False,
                      "url": f"/v1/transfers/{ident}/reversals"},
        "reversed": False, "source_transaction": source,
        "source_type": source_type, "transfer_group": group,
    })  # fmt: skip
    sim.emit("transfer.created", transfer)
    return transfer


def summary(transfers: list[Obj], by: str) -> dict[str, Obj]:
    """Count, amounts per currency and ids of ``transfers`` grouped by ``payout_reference``
    (their metadata's) or ``transfer_group``; the ones without go under ``""``."""
    if by not in ("payout_reference", "transfer_group"):
        raise invalid("by is payout_reference or transfer_group", "by")
    groups: dict[str, Obj] = {}
    for transfer in transfers:
        key = (
            transfer["metadata"].get("payout_reference")
            if by == "payout_reference"
            else transfer["transfer_group"]
        ) or ""
        group = groups.setdefault(key, {"count": 0, "amounts": defaultdict(int), "ids": []})
        group["count"] += 1
        group["amounts"][transfer["currency"]] += transfer["amount"]
        group["ids"].append(transfer["id"])
    return {key: {**group, "amounts": dict(group["amounts"])} for key, group in groups.items()}
