"""KYC gates: where a product asks for a verified identity, and what a held trader reads.
Pure: no I/O.

A product says ``"kyc": {"before_purchase": …, "before_funded": …}`` (before funded by
default, not before purchase) and ``payout.kyc_required`` (default true). A trader is through a
gate once the provider approved them; a gate re-reads the status each time it is met, so a
later rejection closes it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Stage = Literal["purchase", "funded", "payout"]

_WHAT_TO_DO = {
    "not_started": "verify your identity (start the check from your account page)",
    "pending": "wait for the identity check under way to finish",
    "rejected_retry": "submit your documents again",
    "rejected_final": "contact support: the identity check was rejected for good",
}
_BEFORE = {
    "purchase": "buying this challenge",
    "funded": "trading the funded account",
    "payout": "a payout",
}


def required(product: Mapping[str, Any], stage: Stage) -> bool:
    if stage == "payout":
        return bool((product.get("payout") or {}).get("kyc_required", True))
    kyc = product.get("kyc") or {}
    return bool(
        kyc.get("before_purchase", False) if stage == "purchase" else kyc.get("before_funded", True)
    )


def held(
    product: Mapping[str, Any], stage: Stage, status: str, reason: str | None = None
) -> str | None:
    """Why a trader whose verification is ``status`` cannot pass ``stage``, and what to do;
    ``None`` when they may."""
    if status == "approved" or not required(product, stage):
        return None
    why = f" ({reason})" if reason and status.startswith("rejected") else ""
    return (
        f"an approved identity check is required before {_BEFORE[stage]}{why}: "
        f"{_WHAT_TO_DO.get(status, _WHAT_TO_DO['not_started'])}"
    )
