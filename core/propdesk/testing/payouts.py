"""Funded accounts to pay out from, for tests and ``propdesk chaos payouts``.

``funded_product`` is a one-phase instant-funded product on a platform of your choice, its
payout terms given; ``open_funded`` opens a paid challenge on it and provisions its account
through the real provisioning path (the platform creates the account, the challenge trades).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from propdesk.engine.provisioning import provision_account
from propdesk.lifecycle.service import apply_transition, open_challenge
from propdesk.lifecycle.transitions import Paid

if TYPE_CHECKING:
    from propdesk.runtime import Runtime
    from propdesk.tenancy.context import TenantContext

FUNDED_GROUP = "real\\payouts\\funded"


def funded_product(
    *,
    code: str = "funded-payouts",
    platform: str = "recording",
    group: str = FUNDED_GROUP,
    payout: dict[str, Any] | None = None,
    scaling: dict[str, Any] | None = None,
    fee_refund_with: int | None = None,
) -> dict[str, Any]:
    """A product whose only phase is an instant-funded account of 100,000 USD (static 10%
    max loss)."""
    product: dict[str, Any] = {
        "code": code,
        "name": "Funded payouts",
        "currency": "USD",
        "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
        "sizes": [{"code": "100k", "balance": "100000", "prices": {"USD": "540.00"}}],
        "kyc": {"before_funded": False},
        "payout": payout
        or {
            "split_percent": "80",
            "cadence": "on_demand",
            "first_after_days": 0,
            "min_amount": "50.00",
            "flat_required": True,
            "kyc_required": False,
        },
        "phases": [
            {
                "code": "instant",
                "name": "Instant funded account",
                "kind": "instant",
                "platform": platform,
                "group": group,
                "leverage": 100,
                "rules": [
                    {
                        "family": "max_loss",
                        "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                    }
                ],
            }
        ],
    }
    if scaling is not None:
        product["scaling"] = scaling
    if fee_refund_with is not None:
        product["fee_refund"] = {"with_payout": fee_refund_with}
    return product


async def open_funded(
    runtime: Runtime,
    tenant: TenantContext,
    *,
    product_code: str = "funded-payouts",
    trader_email: str = "ana@traders.example",
    trader_name: str = "Ana Trader",
) -> tuple[int, str]:
    """A paid challenge on a funded account: its id and its ``<platform>:<login>``."""
    async with runtime.db.unit_of_work(tenant) as session:
        challenge = await open_challenge(
            session,
            None,
            product_code=product_code,
            size="100k",
            addons=[],
            trader_email=trader_email,
            trader_name=trader_name,
            actor="test",
        )
        await apply_transition(session, None, challenge.id, Paid(at=datetime.now(UTC)), actor="t")
        challenge_id = int(challenge.id)
    made = await provision_account(runtime, tenant, challenge_id)
    assert made is not None, f"challenge {challenge_id} was not provisioned"
    return challenge_id, made.account
