"""The payout workflow as a pure state machine: which event moves a payout from where to where.

::

    requested       withdrawn -> pending_review, withdrawal_refused -> cancelled
    pending_review  approved -> approved (once every approval is in), rejected -> rejected
    approved        submitted -> paying
    paying          paid -> paid, payment_refused -> failed
    failed          retried -> approved, rejected -> rejected
    paid, rejected, cancelled: terminal

The worker drives ``requested`` (withdraws the profit from the trading account), ``approved``
and ``paying`` (pays through the rail); people drive the rest. A payout is *in flight* until it
is paid, rejected or cancelled: a challenge has at most one in flight (a unique index), so the
profit of an account is never withdrawn twice for two requests.
"""

from __future__ import annotations

from decimal import Decimal

from propdesk.errors import Conflict

REQUESTED, PENDING_REVIEW, APPROVED, PAYING = "requested", "pending_review", "approved", "paying"
PAID, FAILED, REJECTED, CANCELLED = "paid", "failed", "rejected", "cancelled"
STATUSES = (REQUESTED, PENDING_REVIEW, APPROVED, PAYING, PAID, FAILED, REJECTED, CANCELLED)
TERMINAL = frozenset({PAID, REJECTED, CANCELLED})
IN_FLIGHT = tuple(s for s in STATUSES if s not in TERMINAL)
#: What the worker does something about (a rejected payout may still owe a return).
WORKER_DRIVEN = (REQUESTED, APPROVED, PAYING, REJECTED)

#: event -> ({from statuses}, to status)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "withdrawn": (frozenset({REQUESTED}), PENDING_REVIEW),
    "withdrawal_refused": (frozenset({REQUESTED}), CANCELLED),
    "approved": (frozenset({PENDING_REVIEW}), APPROVED),
    "submitted": (frozenset({APPROVED}), PAYING),
    "paid": (frozenset({PAYING}), PAID),
    "payment_refused": (frozenset({PAYING}), FAILED),
    "retried": (frozenset({FAILED}), APPROVED),
    "rejected": (frozenset({PENDING_REVIEW, FAILED}), REJECTED),
}
#: Forfeit keeps the withdrawn profit with the firm; return deposits it back on the account.
DISPOSITIONS = ("forfeit", "return")


class PayoutStateError(Conflict):
    """An action the payout does not take in its status."""

    title = "Payout action refused"
    slug = "payout-action-refused"


def move(status: str, event: str) -> str:
    """The status after ``event``, or ``PayoutStateError`` saying what the payout takes now."""
    sources, target = MOVES[event]
    if status not in sources:
        takes = sorted(e for e, (f, _) in MOVES.items() if status in f)
        raise PayoutStateError(
            f"a payout that is {status} cannot be {event.replace('_', ' ')}; it takes "
            f"{', '.join(takes) if takes else 'nothing more'}"
        )
    return target


def approvals_required(threshold: Decimal | None, amount: Decimal) -> int:
    """Two approvers above the desk's threshold (``None``: never), one otherwise."""
    return 2 if threshold is not None and amount > threshold else 1
