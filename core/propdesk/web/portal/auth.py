"""Signing up, in and out of the portal: the traders' own service and sessions, with the
session in the ``propdesk_trader`` cookie as the API sets it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from propdesk.access.auth import session_cookie
from propdesk.access.passwords import MIN_PASSWORD_LENGTH
from propdesk.errors import Unauthenticated
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.traders import service, sessions
from propdesk.traders.routes import trader_secret
from propdesk.web.pages import form_of, render, safe_next, see_other
from propdesk.web.portal.forms import NOT_REFUSED, Refused, attempt
from propdesk.web.portal.trader import OPEN

HOME = "/"
#: What the sign-up form keeps when it is shown again (never the password).
KEPT = ("email", "name", "country", "accept_terms", "marketing")


def _signed_in(
    request: Request[Any, Any, Any], secret: str, hours: int, target: str
) -> Response[Any]:
    response = see_other(target)
    https = request.url.scheme == "https"
    response.set_cookie(session_cookie(sessions.COOKIE, secret, hours, https=https))
    return response


@get("/signup", opt=OPEN, name="portal-signup")
async def signup_page(
    request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep
) -> Template:
    target = safe_next(request.query_params.get("next"), HOME)
    return await _signup_form(request, session, target, {}, NOT_REFUSED)


@post("/signup", opt=OPEN, status_code=303)
async def signup(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Response[Any]:
    form = await form_of(request)
    target = safe_next(form.get("next"), HOME)

    async def register() -> str:
        await service.register(
            session,
            email=form.get("email", ""),
            password=form.get("password", ""),
            name=form.get("name", ""),
            country=form.get("country", ""),
            accept_terms=form.get("accept_terms") == "on",
            marketing=form.get("marketing") == "on",
        )
        _, secret = await sessions.sign_in(
            session, form.get("email", ""), form.get("password", ""), hours=hours
        )
        return secret

    hours = runtime.settings.session_hours
    secret, refused = await attempt(session, register)
    if secret is None:
        return await _signup_form(request, session, target, form, refused or NOT_REFUSED)
    return _signed_in(request, secret, hours, target)


async def _signup_form(
    request: Request[Any, Any, Any],
    session: SessionDep,
    target: str,
    form: dict[str, str],
    refused: Refused,
) -> Template:
    kept = {name: form.get(name, "") for name in KEPT}
    return await render(
        request,
        session,
        "portal/signup.html",
        status=refused.status,
        trader=None,
        next=target,
        form=kept,
        refused=refused,
        min_password=MIN_PASSWORD_LENGTH,
    )


@get("/login", opt=OPEN, name="portal-login")
async def login_page(
    request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep
) -> Template:
    target = safe_next(request.query_params.get("next"), HOME)
    return await render(
        request, session, "portal/login.html", trader=None, next=target, email="", error=""
    )


@post("/login", opt=OPEN, status_code=303)
async def login(
    request: Request[Any, Any, Any], runtime: RuntimeDep, session: SessionDep, tenant: TenantDep
) -> Response[Any]:
    form = await form_of(request)
    target = safe_next(form.get("next"), HOME)
    email = form.get("email", "").strip()
    hours = runtime.settings.session_hours
    try:
        _, secret = await sessions.sign_in(session, email, form.get("password", ""), hours=hours)
    except Unauthenticated as exc:
        return await render(
            request,
            session,
            "portal/login.html",
            status=401,
            trader=None,
            next=target,
            email=email,
            error=exc.detail,
        )
    return _signed_in(request, secret, hours, target)


@post("/logout", opt=OPEN, status_code=303)
async def logout(
    request: Request[Any, Any, Any], session: SessionDep, tenant: TenantDep
) -> Response[Any]:
    secret = trader_secret(request)
    if secret is not None:
        await sessions.sign_out(session, secret)
    response = see_other("/login?done=Signed+out.")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


ROUTES = [signup_page, signup, login_page, login, logout]
