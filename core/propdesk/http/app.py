"""The Litestar application: ``create_app(runtime)``.

Layers, outside in: request id and access log → authentication → tenant resolution →
the permission guard → the handler. Routes: ``/health`` and ``/ready``, the core modules'
``ROUTES``, each plugin's routes under ``/plugins/<plugin name>``, then the web pages
(``propdesk.web``); OpenAPI at ``/schema``.
A handler without a declared permission aborts startup.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import redis.asyncio as aioredis
from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, ControllerRouterHandler

from propdesk import __version__
from propdesk.access.auth import AuthenticationMiddleware
from propdesk.access.enforcer import PolicyEnforcer
from propdesk.access.guard import check_route_permissions, permission_guard
from propdesk.access.permissions import public
from propdesk.http import health
from propdesk.http.deps import SIGNATURE_NAMESPACE, dependencies
from propdesk.http.problems import EXCEPTION_HANDLERS
from propdesk.http.request_id import RequestIdMiddleware
from propdesk.http.tenant import NO_TENANT_OPT, TenantDirectory, TenantMiddleware
from propdesk.runtime import Runtime
from propdesk.web.routes import web_routers
from propdesk.web.templating import template_config

#: Core domain modules whose ``ROUTES`` list is mounted as declared.
CORE_ROUTE_MODULES = (
    "propdesk.access.routes",
    "propdesk.audit.routes",
    "propdesk.tenancy.routes",
    "propdesk.catalogue.routes",
    "propdesk.lifecycle.routes",
    "propdesk.ledger.routes",
    "propdesk.payments.routes",
    "propdesk.kyc.routes",
    "propdesk.traders.routes",
    "propdesk.orders.routes",
    "propdesk.payouts.routes",
    "propdesk.risk.routes",
    "propdesk.engine.routes",
    "propdesk.engine.ingest_routes",
    "propdesk.reports.routes",
)
#: Prefix of plugin routes: ``/plugins/<plugin name>/...``.
PLUGIN_PREFIX = "/plugins"
SCHEMA_PATH = "/schema"
#: Route ``opt`` of the OpenAPI routes (public, no desk needed).
SCHEMA_OPT: dict[str, Any] = {**public(), NO_TENANT_OPT: True}


class PropdeskApp(Litestar):
    """Litestar with the request-id layer outside the router, so 404s and 405s carry ids."""

    def _create_asgi_handler(self) -> ASGIApp:
        return RequestIdMiddleware(super()._create_asgi_handler())


def core_routes() -> list[ControllerRouterHandler]:
    routes: list[ControllerRouterHandler] = list(health.ROUTES)
    for name in CORE_ROUTE_MODULES:
        routes.extend(importlib.import_module(name).ROUTES)
    return routes


def plugin_routers(runtime: Runtime) -> list[Router]:
    return [
        Router(path=f"{PLUGIN_PREFIX}/{plugin}", route_handlers=handlers)
        for plugin, handlers in runtime.host.routes()
        if handlers
    ]


def create_app(runtime: Runtime) -> Litestar:
    """The web application of ``runtime``. Fails at startup on a route without permission."""

    @contextlib.asynccontextmanager
    async def services(app: Litestar) -> AsyncIterator[None]:
        """One Redis client, the desk registry cache and the access policy, per process."""
        redis = aioredis.from_url(runtime.redis_url, socket_connect_timeout=2)
        directory = TenantDirectory(runtime.db, redis)
        app.state.redis = redis
        app.state.tenants = directory
        try:
            async with PolicyEnforcer.running(runtime) as enforcer:
                app.state.enforcer = enforcer
                yield
        finally:
            await directory.close()
            await redis.aclose()

    openapi = OpenAPIConfig(
        title="Propdesk",
        version=__version__,
        path=SCHEMA_PATH,
        openapi_router=Router(path=SCHEMA_PATH, route_handlers=[], opt=SCHEMA_OPT),
    )
    route_handlers: Sequence[ControllerRouterHandler] = [
        *core_routes(),
        *plugin_routers(runtime),
        *web_routers(),
    ]
    app = PropdeskApp(
        route_handlers=route_handlers,
        dependencies=dependencies(runtime),
        middleware=[AuthenticationMiddleware, TenantMiddleware()],
        guards=[permission_guard],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi,
        template_config=template_config(),
        lifespan=[services],
        signature_namespace=SIGNATURE_NAMESPACE,
        logging_config=None,
    )
    app.state.runtime = runtime
    check_route_permissions(app, runtime.host.permissions())
    return app


__all__ = ["CORE_ROUTE_MODULES", "PLUGIN_PREFIX", "SCHEMA_OPT", "PropdeskApp", "create_app"]
