"""Traders over HTTP: register, sign in and out, their profile and identity check.

Trader routes are open to anyone as far as staff permissions go (``public``); the trader
is known by their own session (the ``propdesk_trader`` cookie, or ``Authorization: Bearer
ptr_…``), which ``signed_in_trader`` requires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.auth import session_cookie
from propdesk.access.permissions import public
from propdesk.errors import Unauthenticated
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.kyc.service import start_kyc
from propdesk.traders import service, sessions
from propdesk.traders.models import Trader

TAGS = ["traders"]
OPEN = public()


class RegisterBody(msgspec.Struct):
    email: str
    password: str
    name: str
    country: str
    accept_terms: bool
    marketing: bool = False


class SignInBody(msgspec.Struct):
    email: str
    password: str


class TraderView(msgspec.Struct):
    id: int
    email: str
    name: str
    country: str
    kyc_status: str
    #: Why an identity check was rejected, when the provider says so.
    kyc_reason: str | None
    created_at: datetime


class SignedIn(msgspec.Struct):
    trader: TraderView
    #: The session secret, also set as the ``propdesk_trader`` cookie (shown once).
    token: str


class KycStartBody(msgspec.Struct):
    provider: str


class KycSessionView(msgspec.Struct):
    provider: str
    applicant: str
    access_token: str
    url: str | None
    expires_at: datetime | None


def view(trader: Trader) -> TraderView:
    return TraderView(
        trader.id,
        trader.email,
        trader.name,
        trader.country,
        trader.kyc_status,
        trader.kyc_reason,
        trader.created_at,
    )


def trader_secret(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(sessions.COOKIE)


async def signed_in_trader(request: Request[Any, Any, Any], session: AsyncSession) -> Trader:
    """The trader of the request's session; 401 otherwise."""
    secret = trader_secret(request)
    trader = await sessions.trader_for(session, secret) if secret else None
    if trader is None:
        raise Unauthenticated("sign in as a trader first (POST /api/traders/sessions)")
    return trader


def _signed_in(
    request: Request[Any, Any, Any], trader: Trader, secret: str, hours: int, status: int
) -> Response[SignedIn]:
    cookie = session_cookie(sessions.COOKIE, secret, hours, https=request.url.scheme == "https")
    return Response(SignedIn(view(trader), secret), status_code=status, cookies=[cookie])


@post("/api/traders", opt=OPEN, status_code=201, operation_id="registerTrader", tags=TAGS)
async def register(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    data: JSONBody[RegisterBody],
) -> Response[SignedIn]:
    """Register with e-mail, password, name, country and consent; signed in at once."""
    trader = await service.register(
        session,
        email=data.email,
        password=data.password,
        name=data.name,
        country=data.country,
        accept_terms=data.accept_terms,
        marketing=data.marketing,
    )
    hours = runtime.settings.session_hours
    _, secret = await sessions.sign_in(session, data.email, data.password, hours=hours)
    return _signed_in(request, trader, secret, hours, 201)


@post("/api/traders/sessions", opt=OPEN, status_code=200, operation_id="signInTrader", tags=TAGS)
async def sign_in(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    data: JSONBody[SignInBody],
) -> Response[SignedIn]:
    """Sign in; a wrong e-mail or password is one refusal (401)."""
    hours = runtime.settings.session_hours
    trader, secret = await sessions.sign_in(session, data.email, data.password, hours=hours)
    return _signed_in(request, trader, secret, hours, 200)


@delete(
    "/api/traders/sessions/current",
    opt=OPEN,
    status_code=204,
    operation_id="signOutTrader",
    tags=TAGS,
)
async def sign_out(request: Request[Any, Any, Any], session: SessionDep) -> Response[None]:
    """End this session and clear the cookie."""
    secret = trader_secret(request)
    if secret:
        await sessions.sign_out(session, secret)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@get("/api/traders/me", opt=OPEN, operation_id="getTraderMe", tags=TAGS)
async def me(request: Request[Any, Any, Any], session: SessionDep) -> TraderView:
    """The signed-in trader, with where their identity check stands."""
    return view(await signed_in_trader(request, session))


@post("/api/traders/me/kyc", opt=OPEN, status_code=200, operation_id="startTraderKyc", tags=TAGS)
async def start_identity_check(
    request: Request[Any, Any, Any],
    runtime: RuntimeDep,
    session: SessionDep,
    tenant: TenantDep,
    data: JSONBody[KycStartBody],
) -> KycSessionView:
    """Start (or continue) the identity check with the desk's provider: a fresh token for its
    SDK, and its page when it hosts one."""
    trader = await signed_in_trader(request, session)
    made = await start_kyc(runtime, tenant, trader.id, data.provider)
    return KycSessionView(
        data.provider, made.applicant_reference, made.access_token, made.url, made.expires_at
    )


ROUTES = [register, sign_in, sign_out, me, start_identity_check]
