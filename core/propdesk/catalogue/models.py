"""Versions of a desk's challenge products (tenant schema).

A product has at most one draft (no number yet) and any number of published or retired
versions, numbered 1, 2, ... per product in the order they were published. A database trigger
keeps the content of a non-draft version immutable and allows only draft -> published ->
retired (see migration t0002).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"


class CatalogueVersion(TenantBase):
    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_code: Mapped[str] = mapped_column(String(40))
    #: None while a draft; 1, 2, ... once published.
    version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(71))
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(Text)
