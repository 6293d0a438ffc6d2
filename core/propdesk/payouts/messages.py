"""What the trader reads when their payout moves: pure functions of the ``payout.<event>``
payload and the desk's name (``None``: the step is not worth an e-mail)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from propdesk.notifications.templates import Message

_SUBJECTS = {
    "requested": "we received your payout request",
    "withdrawn": "your payout is under review",
    "withdrawal_refused": "your payout request could not go ahead",
    "approved": "your payout is approved",
    "paid": "your payout has been paid",
    "payment_refused": "your payout could not be paid",
    "rejected": "your payout was rejected",
    "returned": "the profit of your rejected payout is back on your account",
    "scaled": "your account has been scaled up",
}

_BODIES = {
    "requested": "We are withdrawing the profit from your trading account; review follows.",
    "withdrawn": "The profit has been withdrawn from your trading account and finance is "
    "reviewing your payout.",
    "withdrawal_refused": "The trading platform refused to withdraw the profit, so nothing was "
    "withdrawn. You may request again.",
    "approved": "Finance approved your payout; it is being paid.",
    "paid": "Your payout has been sent. Your statement is in your portal.",
    "payment_refused": "The payment did not go through; finance will retry or contact you.",
    "rejected": "Finance rejected your payout.",
    "returned": "The withdrawn profit has been deposited back on your trading account.",
    "scaled": "Your payout met the scaling plan: trading on your current account has stopped and "
    "a larger account is being opened; its login follows by e-mail.",
}


def payout_message(event: str, payload: Mapping[str, Any], desk: str) -> Message | None:
    if event not in _SUBJECTS:
        return None
    number, challenge = payload.get("number"), payload.get("challenge_id")
    amount = f"{payload.get('amount')} {payload.get('currency')}"
    subject = f"{desk}: {_SUBJECTS[event]} ({amount})"
    lines = [
        f"Payout {number} of challenge #{challenge}: {amount}.",
        _BODIES[event],
        f"Details: {payload.get('detail')}",
    ]
    return Message(subject, "\n".join(lines) + f"\n\n{desk}\n")
