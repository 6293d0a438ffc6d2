"""Staff sign-in and sign-out pages, shared by the back office and the leadership view."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from propdesk.access import service
from propdesk.access.auth import SESSION_COOKIE, cookie_value, session_cookie
from propdesk.access.permissions import public
from propdesk.errors import Unauthenticated
from propdesk.http.deps import RuntimeDep, SessionDep
from propdesk.http.tenant import request_tenant
from propdesk.web.pages import area_router, form_of, render, safe_next, see_other

OPEN = public()


def _home(request: Request[Any, Any, Any]) -> str:
    """Staff land in their desk's back office, or in the leadership view off any desk."""
    return "/backoffice/" if request_tenant(request.scope) is not None else "/leadership"


@get("/login", opt=OPEN, name="staff-login")
async def login_page(request: Request[Any, Any, Any], session: SessionDep) -> Template:
    target = safe_next(request.query_params.get("next"), _home(request))
    return await render(request, session, "signin.html", next=target, email="", error="")


@post("/login", opt=OPEN, status_code=303)
async def login(
    request: Request[Any, Any, Any], session: SessionDep, runtime: RuntimeDep
) -> Response[Any]:
    form = await form_of(request)
    target = safe_next(form.get("next"), _home(request))
    email = form.get("email", "").strip()
    hours = runtime.settings.session_hours
    try:
        _, secret = await service.login(
            session, email=email, password=form.get("password", ""), session_hours=hours
        )
    except Unauthenticated as exc:
        page = await render(
            request, session, "signin.html", status=401, next=target, email=email, error=exc.detail
        )
        return page
    response = see_other(target)
    response.set_cookie(
        session_cookie(SESSION_COOKIE, secret, hours, https=request.url.scheme == "https")
    )
    return response


@post("/logout", opt=OPEN, status_code=303)
async def logout(request: Request[Any, Any, Any], session: SessionDep) -> Response[Any]:
    secret = cookie_value(request.headers.get("cookie"))
    if secret is not None:
        await service.logout(session, secret)
    response = see_other("/backoffice/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTER = area_router("/backoffice", "backoffice", [login_page, login, logout])
