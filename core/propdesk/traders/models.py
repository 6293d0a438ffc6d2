"""Traders (tenant schema, migration ``t0008``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, String, Text
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
