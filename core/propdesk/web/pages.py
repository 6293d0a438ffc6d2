"""What every page shares: rendering with the desk's brand, who is signed in, the areas'
routers, and errors shown as pages (a sign-in redirect instead of a 401 problem).

A page handler stays thin: it calls a domain service and hands ``render`` what to show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from litestar import Request, Response, Router
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.guard import is_allowed
from propdesk.access.principal import Principal
from propdesk.errors import Forbidden, PropdeskError, Unauthenticated
from propdesk.http.problems import GENERIC_DETAIL
from propdesk.http.tenant import request_tenant
from propdesk.logs import request_id_var
from propdesk.web.brand import Brand, brand_of

log = logging.getLogger("propdesk.web")

Area = Literal["portal", "backoffice", "leadership"]
AREA_OPT = "page_area"
#: Where each area signs people in.
SIGN_IN = {"portal": "/login", "backoffice": "/backoffice/login", "leadership": "/backoffice/login"}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def principal_of(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def can(request: Request[Any, Any, Any], obj: str, act: str) -> bool:
    """Whether the signed-in staff member holds ``obj:act`` here (for links and buttons; the
    routes' own permissions still decide)."""
    principal = principal_of(request)
    enforcer = request.app.state.enforcer
    permission = enforcer.permission((obj, act))
    if principal is None or permission is None:
        return False
    tenant = request_tenant(request.scope)
    return is_allowed(enforcer, principal, permission, tenant.slug if tenant else None)


async def render(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> Template:
    """``template`` with the desk's brand, the signed-in person and ``context``."""
    brand = await brand_of(session, request_tenant(request.scope))
    return Template(
        template_name=template,
        context=_context(request, brand, context),
        status_code=status,
    )


def _context(
    request: Request[Any, Any, Any], brand: Brand, context: dict[str, Any]
) -> dict[str, Any]:
    principal = principal_of(request)
    return {
        "brand": brand,
        "area": request.route_handler.opt.get(AREA_OPT, "portal"),
        "path": request.url.path,
        "staff": principal,
        "can": lambda obj, act: can(request, obj, act),
        "request_id": request_id_var.get(),
        "flash": request.query_params.get("done", ""),
        **context,
    }


def see_other(url: str, request: Request[Any, Any, Any] | None = None) -> Response[Any]:
    """After a form post: 303 to ``url`` (HTMX follows ``HX-Redirect`` instead)."""
    if request is not None and request.headers.get("hx-request") == "true":
        return Response(None, status_code=204, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


def safe_next(target: str | None, default: str) -> str:
    """A ``next`` that stays on this site (no scheme, no host, no ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


# -- errors as pages ---------------------------------------------------------------------------


def _area(request: Request[Any, Any, Any]) -> Area:
    try:
        area = request.route_handler.opt.get(AREA_OPT, "portal")
    except Exception:  # no handler resolved
        area = "portal"
    return area


def _error_page(request: Request[Any, Any, Any], status: int, title: str, detail: str) -> Template:
    # The brand needs the database; an error page must not, so it shows the desk's name only.
    tenant = request_tenant(request.scope)
    brand = Brand(tenant.display_name or tenant.slug) if tenant else Brand("Propdesk")
    return Template(
        template_name="error.html",
        context=_context(request, brand, {"status": status, "title": title, "detail": detail}),
        status_code=status,
    )


def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Sign-in for the anonymous; otherwise the error as a page, in the site's look."""
    if isinstance(exc, Unauthenticated):
        login = f"{SIGN_IN[_area(request)]}?next={quote(request.url.path)}"
        return see_other(login, request)
    if isinstance(exc, PropdeskError) and exc.status < 500:
        return _error_page(request, exc.status, exc.title, exc.detail)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        detail = exc.detail
        if exc.status_code == 404:
            detail = f"There is nothing at {request.url.path}."
        return _error_page(request, exc.status_code, "Not available", detail)
    log.error("page %s %s failed", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, "Something went wrong", GENERIC_DETAIL)


#: Every class the app maps to a problem, mapped here too: Litestar picks by the nearest class.
PAGE_ERRORS: ExceptionHandlersMap = {
    PropdeskError: on_error,
    HTTPException: on_error,
    Exception: on_error,
}


def same_origin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Form posts only from our own pages (OWASP's origin check, with SameSite=Lax cookies)."""
    if connection.scope.get("method") not in UNSAFE:
        return
    origin = connection.headers.get("origin") or connection.headers.get("referer") or ""
    host = connection.headers.get("host", "")
    if not origin or urlsplit(origin).netloc != host:
        raise Forbidden("this form can only be sent from the site's own pages")


def area_router(
    path: str,
    area: Area,
    handlers: Sequence[ControllerRouterHandler],
    *,
    opt: dict[str, Any] | None = None,
) -> Router:
    """A router of pages of one area: errors as pages, form posts origin-checked."""
    return Router(
        path=path,
        route_handlers=list(handlers),
        opt={AREA_OPT: area, **(opt or {})},
        guards=[same_origin],
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
    )


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """A form post's fields as plain strings (the last value of a repeated field)."""
    form = await request.form()
    return {key: str(value) for key, value in form.items()}
