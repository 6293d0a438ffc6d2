"""Challenges and their history (tenant schema); the state machine lives in ``machine``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column


class ChallengeRow(TenantBase):
    """One purchase of a product version: where its lifecycle stands now."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    trader_email: Mapped[str] = mapped_column(Text)
    trader_name: Mapped[str] = mapped_column(Text)
    product_code: Mapped[str] = mapped_column(String(40))
    version_hash: Mapped[str] = mapped_column(String(71))
    #: The version it was bought under (the history replays from it, re-binds and all).
    ordered_version_hash: Mapped[str] = mapped_column(String(71))
    size: Mapped[str | None] = mapped_column(String(40))
    addons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    #: ``[{"code": …, "kind": …}]`` of the product's phases at purchase.
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20))
    phase: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    account: Mapped[str | None] = mapped_column(String(100))
    paused_by: Mapped[str | None] = mapped_column(String(80))
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class ChallengeHistory(TenantBase):
    """One applied transition (append-only: a trigger refuses updates and deletes)."""

    __tablename__ = "challenge_history"

    challenge_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("challenges.id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    phase: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(String(80))
    explanation: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    transition: Mapped[dict[str, Any]]
