"""Payment providers' events as received (tenant schema, migration ``t0009``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column


class PaymentEventRow(TenantBase):
    """One provider event, acted on once: the key is the provider's event id."""

    __tablename__ = "payment_events"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    provider_type: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("orders.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: What the core did with it (``paid``, ``refund of 40.00 posted``, ``not applied: …``).
    outcome: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()
