"""Payouts, their approvals, payments, timeline and the scaling steps (migration ``t0013``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column

MONEY = Numeric(20, 2)
PERCENT = Numeric(7, 4)


class PayoutRow(TenantBase):
    """One payout of a funded account: the quote it was requested under and where it stands."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("trading_accounts.id"))
    trader_email: Mapped[str] = mapped_column(Text)
    trader_name: Mapped[str] = mapped_column(Text)
    #: 1 for the challenge's first payout, and so on (what split tiers and fee refunds count).
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    profit: Mapped[Decimal] = mapped_column(MONEY)
    #: The profit the split applies to; what is withdrawn from the trading account.
    counted: Mapped[Decimal] = mapped_column(MONEY)
    split_percent: Mapped[Decimal] = mapped_column(PERCENT)
    trader_share: Mapped[Decimal] = mapped_column(MONEY)
    firm_share: Mapped[Decimal] = mapped_column(MONEY)
    fee_refund: Mapped[Decimal] = mapped_column(MONEY)
    #: What the trader is paid: their share plus the fee refund.
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: The case and the quote as they were when it was requested (what approval re-checks).
    quote: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version_hash: Mapped[str] = mapped_column(String(71))
    rail: Mapped[str] = mapped_column(String(40))
    destination: Mapped[dict[str, Any]] = mapped_column(JSONB)
    approvals_required: Mapped[int] = mapped_column(Integer)
    withdrawal_ticket: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rail_reference: Mapped[str | None] = mapped_column(String(200))
    failure: Mapped[str | None] = mapped_column(Text)
    disposition: Mapped[str | None] = mapped_column(String(10))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    returned_ticket: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the worker reviewed the scaling plan after the payment (once per payout).
    scaling_reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = created_at_column()


class PayoutApproval(TenantBase):
    """One approver's approval (a second one must be another person: the primary key)."""

    __tablename__ = "payout_approvals"

    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), primary_key=True)
    approver: Mapped[str] = mapped_column(Text, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PayoutPayment(TenantBase):
    """One attempt to pay a payout through its rail; at most one not failed per payout."""

    __tablename__ = "payout_payments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    rail: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    rail_reference: Mapped[str | None] = mapped_column(String(200))
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PayoutStep(TenantBase):
    """The payout's timeline as the trader and finance read it (append-only)."""

    __tablename__ = "payout_steps"

    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)


class ScalingStep(TenantBase):
    """A challenge's funded account scaled up after a payout met the plan (migration ``t0013``)."""

    __tablename__ = "scaling_steps"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_balance: Mapped[Decimal] = mapped_column(MONEY)
    balance: Mapped[Decimal] = mapped_column(MONEY)
    split_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    explanation: Mapped[str] = mapped_column(Text)
