"""Two declarative bases: shared tables carry their schema, tenant tables carry none.

Runtime tenant sessions translate the empty schema to ``t_<slug>`` (``schema_translate_map``),
so a tenant model can never be read without a tenant, and shared models are never translated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from propdesk.tenancy.naming import SHARED_SCHEMA

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class SharedBase(DeclarativeBase):
    """Tables in the shared ``propdesk`` schema (tenant registry, staff, policies, ...)."""

    metadata = MetaData(schema=SHARED_SCHEMA, naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


class TenantBase(DeclarativeBase):
    """Tables that exist once per tenant schema (``t_<slug>``)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
