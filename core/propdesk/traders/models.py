"""Traders (tenant schema, migration ``t0008``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column


class Trader(TenantBase):
    __tablename__ = "traders"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    #: ISO 3166 alpha-2, upper case.
    country: Mapped[str] = mapped_column(String(2))
    terms_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    marketing_consent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = created_at_column()
    #: ``propdesk.kyc.contract.KycStatus``: the provider's last verdict.
    kyc_status: Mapped[str] = mapped_column(String(20), default="not_started")
    kyc_provider: Mapped[str | None] = mapped_column(String(40))
    kyc_reference: Mapped[str | None] = mapped_column(String(200))
    #: What the trader may read about a rejection.
    kyc_reason: Mapped[str | None] = mapped_column(Text)
    kyc_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TraderSession(TenantBase):
    """A signed-in trader (browser cookie or bearer token), found by its secret's SHA-256."""

    __tablename__ = "trader_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    trader_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("traders.id"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
