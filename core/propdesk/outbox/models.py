"""Outbox rows and per-plugin deliveries (tenant schema)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column


class OutboxEvent(TenantBase):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime] = created_at_column()
    dispatched_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxDelivery(TenantBase):
    """A plugin's successful handling of an event: it is not called for that event again."""

    __tablename__ = "outbox_delivery"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox.event_id", ondelete="CASCADE"), primary_key=True
    )
    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivered_at: Mapped[datetime] = created_at_column()
