"""Traders signing in and out: opaque secrets, only their SHA-256 stored, an expiry, audited."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.passwords import dummy_hash, verify_password
from propdesk.access.tokens import secret_hash
from propdesk.audit.service import record
from propdesk.errors import Unauthenticated
from propdesk.traders.models import Trader, TraderSession
from propdesk.traders.service import find

#: Trader secrets start with this: recognisable, and never taken for a staff token.
PREFIX = "ptr_"
COOKIE = "propdesk_trader"


async def sign_in(
    session: AsyncSession, email: str, password: str, *, hours: int
) -> tuple[Trader, str]:
    """The trader and a new session secret (shown once). A wrong e-mail or password is the
    same refusal, in the same time."""
    trader = await find(session, email)
    if not verify_password(trader.password_hash if trader else dummy_hash(), password) or (
        trader is None
    ):
        raise Unauthenticated("wrong e-mail or password")
    secret = PREFIX + secrets.token_urlsafe(32)
    session.add(
        TraderSession(
            token_hash=secret_hash(secret),
            trader_id=trader.id,
            expires_at=datetime.now(UTC) + timedelta(hours=hours),
        )
    )
    await record(
        session,
        chain="tenant",
        actor=f"trader:{trader.id}",
        action="trader.signed_in",
        target=f"trader:{trader.id}",
    )
    return trader, secret


async def trader_for(session: AsyncSession, secret: str) -> Trader | None:
    """The trader of an open, unexpired session."""
    if not secret.startswith(PREFIX):
        return None
    return await session.scalar(
        select(Trader)
        .join(TraderSession, TraderSession.trader_id == Trader.id)
        .where(
            TraderSession.token_hash == secret_hash(secret),
            TraderSession.revoked_at.is_(None),
            TraderSession.expires_at > datetime.now(UTC),
        )
    )


async def sign_out(session: AsyncSession, secret: str) -> None:
    await session.execute(
        update(TraderSession)
        .where(TraderSession.token_hash == secret_hash(secret), TraderSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
