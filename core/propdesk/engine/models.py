"""The engine's tables (tenant schema): trading accounts, their journal and their evaluated state.

An account's **journal** is what the engine evaluated, in order: the ingested source events
(``account_events``, ordered by the source's sequence, deduplicated by event key) with the
engine's own clock and operator events between them (``account_engine_events``, placed after
a source sequence number). Exporting both, merged, gives ``propdesk replay`` the very inputs
the engine saw. Everything else here is derived and rewritten in batches.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propdesk.db.base import TenantBase, created_at_column

MONEY = Numeric(20, 2)
#: Percentages and prices keep more places than money.
RATIO = Numeric(20, 6)


class TradingAccount(TenantBase):
    """The platform account one attempt at one phase of a challenge trades on."""

    __tablename__ = "trading_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("challenges.id"))
    phase: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    phase_code: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(32))
    login: Mapped[str] = mapped_column(String(64))
    product_code: Mapped[str] = mapped_column(String(40))
    version_hash: Mapped[str] = mapped_column(String(71))
    size: Mapped[str | None] = mapped_column(String(40))
    addons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    currency: Mapped[str] = mapped_column(String(3))
    initial_balance: Mapped[Decimal] = mapped_column(MONEY)
    opened_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class AccountEvent(TenantBase):
    """A source event as ingested: ``body`` is its canonical JSON, ``seq`` the source's order."""

    __tablename__ = "account_events"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trading_accounts.id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(160))
    type: Mapped[str] = mapped_column(String(24))
    time: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()


class EngineEvent(TenantBase):
    """A clock or operator event the engine evaluated after source event ``after_seq``."""

    __tablename__ = "account_engine_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("trading_accounts.id"))
    after_seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text)
    #: The lifecycle history entry an operator event came from (none for clock events).
    source: Mapped[str | None] = mapped_column(String(80), unique=True)


class AccountState(TenantBase):
    """Where the engine stands on an account; rewritten in batches, read by staff pages."""

    __tablename__ = "account_state"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trading_accounts.id"), primary_key=True
    )
    evaluated_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    evaluated_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="not_opened")
    balance: Mapped[Decimal | None] = mapped_column(MONEY)
    equity: Mapped[Decimal | None] = mapped_column(MONEY)
    nearest_rule: Mapped[str | None] = mapped_column(String(80))
    floor: Mapped[Decimal | None] = mapped_column(MONEY)
    headroom: Mapped[Decimal | None] = mapped_column(MONEY)
    headroom_pct: Mapped[Decimal | None] = mapped_column(RATIO)
    day: Mapped[date | None]
    day_min_equity: Mapped[Decimal | None] = mapped_column(MONEY)
    next_due: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    last_snapshot_at: Mapped[datetime | None]
    last_received_at: Mapped[datetime | None]
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    version_hash: Mapped[str] = mapped_column(String(71))
    updated_at: Mapped[datetime] = created_at_column()


class AccountDay(TenantBase):
    """One trading day of an account: where it started, how low it went, its floors."""

    __tablename__ = "account_days"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trading_accounts.id"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    start_balance: Mapped[Decimal] = mapped_column(MONEY)
    start_equity: Mapped[Decimal] = mapped_column(MONEY)
    min_equity: Mapped[Decimal] = mapped_column(MONEY)
    max_equity: Mapped[Decimal] = mapped_column(MONEY)
    close_balance: Mapped[Decimal] = mapped_column(MONEY)
    close_equity: Mapped[Decimal] = mapped_column(MONEY)
    daily_floor: Mapped[Decimal | None] = mapped_column(MONEY)
    max_loss_floor: Mapped[Decimal | None] = mapped_column(MONEY)
    updated_at: Mapped[datetime] = created_at_column()


class AccountVerdict(TenantBase):
    """A rule decision as committed: reproducible with ``propdesk replay`` on the export."""

    __tablename__ = "account_verdicts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("trading_accounts.id"))
    challenge_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("challenges.id"))
    decided_at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str | None] = mapped_column(String(80))
    explanation: Mapped[str] = mapped_column(Text)
    version_hash: Mapped[str] = mapped_column(String(71))
    input_sha256: Mapped[str] = mapped_column(String(64))
    evaluated_seq: Mapped[int] = mapped_column(BigInteger)
    evaluated_until: Mapped[datetime]
    verdict: Mapped[dict[str, Any]]
    committed_at: Mapped[datetime] = created_at_column()


class DataQualityAlert(TenantBase):
    """Something wrong with an account's data: stale feed, a gap, a late or conflicting event."""

    __tablename__ = "data_quality_alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("trading_accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = created_at_column()
    closed_at: Mapped[datetime | None]
    detail: Mapped[str] = mapped_column(Text)


class EvaluationSnapshot(TenantBase):
    """An account's pickled ``LiveAccount`` at ``seq``: restart from here, not from the start."""

    __tablename__ = "evaluation_snapshots"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trading_accounts.id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    engine_events: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime] = created_at_column()


class PlatformCursor(TenantBase):
    """Where polling an account's platform stands: the adapter's cursor and the next seq."""

    __tablename__ = "platform_cursors"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trading_accounts.id"), primary_key=True
    )
    cursor: Mapped[str | None] = mapped_column(Text)
    next_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    polled_at: Mapped[datetime | None]
