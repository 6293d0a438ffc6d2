"""KYC providers' events as received (tenant schema, migration ``t0010``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column


class KycEventRow(TenantBase):
    __tablename__ = "kyc_events"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider_type: Mapped[str] = mapped_column(String(100))
    trader_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("traders.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()
