"""The web layer's routers, composed by ``propdesk.http.app``: static files, staff sign-in,
then one router per area (each area's ``routes.ROUTER``)."""

from __future__ import annotations

import importlib

from litestar import Router
from litestar.static_files import create_static_files_router

from propdesk.access.permissions import public
from propdesk.http.tenant import NO_TENANT_OPT
from propdesk.web import signin
from propdesk.web.templating import STATIC

AREA_MODULES = (
    "propdesk.web.backoffice.routes",
    "propdesk.web.portal.routes",
    "propdesk.web.leadership.routes",
)


def web_routers() -> list[Router]:
    static = create_static_files_router(
        path="/static",
        directories=[STATIC],
        opt={**public(), NO_TENANT_OPT: True},
        include_in_schema=False,
        # Vendored files carry their version in the name; the rest changes with releases.
        cache_control=None,
    )
    routers: list[Router] = [static, signin.ROUTER]
    routers.extend(importlib.import_module(name).ROUTER for name in AREA_MODULES)
    return routers
