"""Who is calling: the session cookie or an API token, looked up by its SHA-256.

``AuthenticationMiddleware`` sets ``scope["user"]`` to a ``Principal`` or None and never
rejects a request itself: the permission guard decides (401 for anonymous callers).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from litestar.datastructures import Cookie
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.models import ApiToken, StaffSession, StaffUser
from propdesk.access.principal import Principal
from propdesk.access.service import utcnow
from propdesk.access.tokens import looks_like_api_token, secret_hash

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from propdesk.db.engine import Database

log = logging.getLogger(__name__)

SESSION_COOKIE = "propdesk_session"
#: ``api_token.last_used_at`` is written at most this often per token (not on every call).
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


async def principal_for_session(session: AsyncSession, secret: str) -> Principal | None:
    """The user of an open, unexpired browser session whose account is active."""
    row = (
        await session.execute(
            select(StaffUser.id, StaffUser.email)
            .join(StaffSession, StaffSession.user_id == StaffUser.id)
            .where(
                StaffSession.token_hash == secret_hash(secret),
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > utcnow(),
                StaffUser.is_active.is_(True),
            )
        )
    ).first()
    return None if row is None else Principal(row.id, row.email, "session")


async def principal_for_token(session: AsyncSession, raw: str) -> Principal | None:
    """The user of an unrevoked, unexpired API token whose account is active.

    Records ``last_used_at`` (at most once per ``TOKEN_TOUCH_INTERVAL``); the caller commits.
    """
    now = utcnow()
    row = (
        await session.execute(
            select(
                ApiToken.id,
                ApiToken.tenant_slug,
                ApiToken.last_used_at,
                StaffUser.id,
                StaffUser.email,
            )
            .join(StaffUser, StaffUser.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == secret_hash(raw),
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
                StaffUser.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    token_id, tenant_slug, last_used_at, user_id, email = row
    if last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL:
        # The condition is repeated in SQL so concurrent requests write once.
        await session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= now - TOKEN_TOUCH_INTERVAL,
                ),
            )
            .values(last_used_at=now)
        )
    return Principal(user_id, email, "token", token_tenant=tenant_slug)


def session_cookie(name: str, secret: str, hours: int, *, https: bool) -> Cookie:
    """A browser session's cookie (staff or trader): HTTP-only, SameSite=Lax, for ``hours``."""
    return Cookie(
        key=name,
        value=secret,
        path="/",
        max_age=hours * 3600,
        httponly=True,
        samesite="lax",
        secure=https,
    )


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer pdk_...`` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and looks_like_api_token(value) else None


def cookie_value(cookie_header: str | None, name: str = SESSION_COOKIE) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header, or None."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value:
            return value.strip('"')
    return None


async def authenticate(db: Database, headers: Iterable[tuple[bytes, bytes]]) -> Principal | None:
    """The principal of a request's headers: an API token wins over a session cookie."""
    headers = list(headers)
    token = bearer_token(_header(headers, b"authorization"))
    secret = None if token else cookie_value(_header(headers, b"cookie"))
    if token is None and secret is None:
        return None
    async with db.session() as session, session.begin():
        if token is not None:
            return await principal_for_token(session, token)
        assert secret is not None
        return await principal_for_session(session, secret)


class AuthenticationMiddleware:
    """ASGI middleware: ``scope["user"]`` = the calling ``Principal`` or None.

    Reads the database through ``app.state.runtime`` (set by ``create_app``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        runtime: Any = scope["litestar_app"].state.runtime
        principal = await authenticate(runtime.db, scope["headers"])
        scope["user"] = principal
        if principal is None:
            await self.app(scope, receive, send)
            return
        with structlog.contextvars.bound_contextvars(user=str(principal.user_id)):
            await self.app(scope, receive, send)
