"""Who is looking at the portal: the trader of the request's session, if any.

Portal pages are ``public()`` as far as staff permissions go; a trader-only page asks for
``signed_in`` (the area router turns its refusal into a redirect to ``/login?next=…``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.permissions import public
from propdesk.traders import sessions
from propdesk.traders.models import Trader
from propdesk.traders.routes import signed_in_trader, trader_secret
from propdesk.web.pages import see_other

#: Every portal route: open to anyone; the trader's own session decides what they see.
OPEN = public()


async def trader_of(request: Request[Any, Any, Any], session: AsyncSession) -> Trader | None:
    """The signed-in trader, or None for a visitor."""
    secret = trader_secret(request)
    return await sessions.trader_for(session, secret) if secret else None


async def signed_in(request: Request[Any, Any, Any], session: AsyncSession) -> Trader:
    """The signed-in trader; ``Unauthenticated`` (a sign-in redirect) for a visitor."""
    return await signed_in_trader(request, session)


def sign_in_first(request: Request[Any, Any, Any], page: str) -> Response[Any]:
    """For a form sent without a session (it expired): sign in, then back to the form's page
    (the area router's redirect would come back to the form's POST address instead)."""
    return see_other(f"/login?next={quote(page)}", request)


def site_url(request: Request[Any, Any, Any], path: str) -> str:
    """``path`` on this site as the browser reached it (for providers sending the trader back)."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}{path}"
