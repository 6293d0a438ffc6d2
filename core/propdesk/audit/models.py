"""Audit records and chain heads; the same columns in the shared schema and in every tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import SharedBase, TenantBase


class _AuditColumns:
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class _HeadColumns:
    """The last record of the chain; its row lock serialises appends."""

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class SharedAuditRecord(_AuditColumns, SharedBase):
    __tablename__ = "audit_log"


class SharedAuditHead(_HeadColumns, SharedBase):
    __tablename__ = "audit_head"


class TenantAuditRecord(_AuditColumns, TenantBase):
    __tablename__ = "audit_log"


class TenantAuditHead(_HeadColumns, TenantBase):
    __tablename__ = "audit_head"
