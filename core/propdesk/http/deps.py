"""App-level dependencies any handler may ask for by name.

``runtime``, ``principal`` (``Principal | None``), ``tenant`` (``TenantContext``; 400 when the
request has no desk) and ``session`` (one unit of work for the request's desk: committed when
the handler returns, rolled back when it raises, then after-commit callbacks run). Handlers
never commit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.access.principal import Principal
from propdesk.errors import PropdeskError
from propdesk.http.tenant import request_tenant
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext

log = logging.getLogger("propdesk.http")

# Annotations for handler parameters (Litestar >= 2.23 wants dependencies marked explicitly):
# ``async def h(runtime: RuntimeDep, session: SessionDep, tenant: TenantDep) -> ...``.
RuntimeDep = NamedDependency[Runtime]
PrincipalDep = NamedDependency[Principal | None]
TenantDep = NamedDependency[TenantContext]
SessionDep = NamedDependency[AsyncSession]


class TenantRequired(PropdeskError):
    """A desk-scoped endpoint was called without saying which desk."""

    status = 400
    title = "Desk required"
    slug = "tenant-required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail or "this endpoint needs a desk: send X-Propdesk-Tenant or use the desk's domain"
        )


def provide_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """The signed-in user (set by the authentication middleware), or None."""
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def provide_tenant(request: Request[Any, Any, Any]) -> TenantContext:
    """The request's desk; a 400 problem when none was resolved."""
    tenant = request_tenant(request.scope)
    if tenant is None:
        raise TenantRequired()
    return tenant


async def provide_session(
    request: Request[Any, Any, Any], runtime: RuntimeDep
) -> AsyncGenerator[AsyncSession, None]:
    """One unit of work bound to the request's desk (or shared tables only, without one)."""
    session = runtime.db.session(request_tenant(request.scope))
    try:
        try:
            yield session
        except BaseException:
            await session.rollback()
            session.info.pop("after_commit", None)
            raise
        await session.commit()
    finally:
        await session.close()
    # Committed: the change is durable, so a failing callback is logged, not reported as a
    # failed request (after-commit work must be idempotent and is retried elsewhere).
    for callback in session.info.pop("after_commit", []):
        try:
            await callback()
        except Exception:
            log.exception("after-commit callback %r failed", callback)


def dependencies(runtime: Runtime) -> dict[str, Provide]:
    """The app-level dependency map for ``runtime``."""

    def provide_runtime() -> Runtime:
        return runtime

    return {
        "runtime": Provide(provide_runtime, use_cache=True, sync_to_thread=False),
        "principal": Provide(provide_principal, sync_to_thread=False),
        "tenant": Provide(provide_tenant, sync_to_thread=False),
        "session": Provide(provide_session),
    }


#: Names handlers may use in annotations even if they import them only for type checking.
SIGNATURE_NAMESPACE: dict[str, Any] = {
    "Runtime": Runtime,
    "Principal": Principal,
    "TenantContext": TenantContext,
    "AsyncSession": AsyncSession,
    "NamedDependency": NamedDependency,
    "RuntimeDep": RuntimeDep,
    "PrincipalDep": PrincipalDep,
    "TenantDep": TenantDep,
    "SessionDep": SessionDep,
}
