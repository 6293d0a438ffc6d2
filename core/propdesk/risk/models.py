"""Risk cases (tenant schema, migration ``t0012``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column


class RiskCase(TenantBase):
    __tablename__ = "risk_cases"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: ``dispute``, ...
    kind: Mapped[str] = mapped_column(String(40))
    #: What raised it (``stripe:dp_…``): a case is opened once per cause.
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"))
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("orders.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    summary: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = created_at_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
