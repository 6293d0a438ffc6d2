"""The one authorization guard, and the startup check that every route declares a permission.

A route declares ``opt=requires(obj, act)``, ``signed_in()`` or ``public()``. Desk-scope
permissions are checked in the request's desk, group-scope ones in domain ``*``. Anything not
granted is refused: deny by default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from propdesk.access.enforcer import GROUP_DOMAIN, PolicyEnforcer
from propdesk.access.permissions import PUBLIC, SIGNED_IN, Permission
from propdesk.access.principal import Principal
from propdesk.errors import ConfigurationError, FieldProblem, Forbidden, Unauthenticated
from propdesk.http.deps import TenantRequired
from propdesk.http.tenant import request_tenant

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

log = logging.getLogger(__name__)

PERMISSION_OPT = "permission"


def is_allowed(
    enforcer: PolicyEnforcer, principal: Principal, permission: Permission, tenant_slug: str | None
) -> bool:
    """Whether ``principal`` holds ``permission`` (in ``tenant_slug`` for a desk permission).

    An API token scoped to a desk acts only in that desk: never in another, never group-wide.
    """
    obj, act = permission.key
    if permission.scope == "group":
        if principal.token_tenant is not None:
            return False
        return enforcer.enforce(principal.subject, GROUP_DOMAIN, obj, act)
    if tenant_slug is None:
        return False
    if principal.token_tenant is not None and principal.token_tenant != tenant_slug:
        return False
    return enforcer.enforce(principal.subject, tenant_slug, obj, act)


def _is_litestar_options(handler: BaseRouteHandler) -> bool:
    """Litestar's automatic ``OPTIONS`` handler (it only lists the allowed methods)."""
    methods = getattr(handler, "http_methods", None)
    module = getattr(handler.fn, "__module__", "") or ""
    return methods == {"OPTIONS"} and module.startswith("litestar.")


def permission_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-level Litestar guard enforcing the handler's declared permission."""
    declared = handler.opt.get(PERMISSION_OPT)
    if declared == PUBLIC or (declared is None and _is_litestar_options(handler)):
        return
    if declared is None:  # check_route_permissions makes this unreachable; deny anyway
        raise Forbidden("this endpoint declares no permission")
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthenticated("sign in, or send an API token (Authorization: Bearer pdk_...)")
    if declared == SIGNED_IN:
        return
    enforcer: PolicyEnforcer = connection.app.state.enforcer
    obj, act = declared
    permission = enforcer.permission((obj, act))
    if permission is None:
        raise Forbidden(f"the permission {obj}:{act} is not declared")
    tenant = request_tenant(connection.scope) if permission.scope == "tenant" else None
    if permission.scope == "tenant" and tenant is None:
        raise TenantRequired()
    slug = tenant.slug if tenant is not None else None
    if not is_allowed(enforcer, principal, permission, slug):
        where = f"on desk {slug!r}" if slug else "group-wide"
        log.warning(
            "access denied: %s lacks %s:%s %s (%s %s)",
            principal.subject,
            obj,
            act,
            where,
            connection.scope.get("method"),
            connection.scope.get("path"),
        )
        raise Forbidden(f"you may not {act} {obj} {where}")


def _where(route_path: str, handler: BaseRouteHandler) -> str:
    methods = sorted(getattr(handler, "http_methods", None) or ["WEBSOCKET/ASGI"])
    return f"{'/'.join(methods)} {route_path}"


def check_route_permissions(
    app: Litestar, permissions: Mapping[tuple[str, str], Permission]
) -> None:
    """Refuse to start when a handler declares no permission or one nobody registered."""
    problems: list[FieldProblem] = []
    for route in app.routes:
        handlers = getattr(route, "route_handlers", None) or [route.route_handler]  # type: ignore[union-attr]
        for handler in handlers:
            if _is_litestar_options(handler):
                continue
            where = _where(route.path, handler)
            declared = handler.opt.get(PERMISSION_OPT)
            if declared is None:
                problems.append(
                    FieldProblem(
                        where,
                        f"handler {handler.handler_name} declares no permission: add "
                        "opt=requires(obj, act), signed_in() or public()",
                    )
                )
            elif declared in (PUBLIC, SIGNED_IN):
                continue
            elif (
                not isinstance(declared, tuple | list)
                or len(declared) != 2
                or tuple(declared) not in permissions
            ):
                problems.append(
                    FieldProblem(
                        where,
                        f"handler {handler.handler_name} requires {declared!r}, which no plugin "
                        "declares: register it with propdesk_register_permissions",
                    )
                )
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise ConfigurationError(
            f"{len(problems)} route(s) without a valid permission:\n{lines}", problems=problems
        )
