"""The current tenant: explicit, set by the HTTP middleware or the job decorator."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from propdesk.tenancy.naming import schema_for


@dataclass(frozen=True)
class TenantContext:
    """A tenant as code sees it. ``plugins`` maps each enabled plugin to its settings."""

    slug: str
    display_name: str = ""
    status: str = "active"
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return schema_for(self.slug)

    def plugin_enabled(self, name: str) -> bool:
        return name in self.plugins

    def settings_for(self, plugin: str) -> Mapping[str, Any]:
        """This tenant's settings of ``plugin`` (secrets still as references)."""
        return self.plugins.get(plugin, {})


class TenantNotSet(RuntimeError):
    """Tenant-scoped code ran without a tenant: a bug, never a user error."""


_current: ContextVar[TenantContext | None] = ContextVar("propdesk_tenant", default=None)


def current_tenant() -> TenantContext:
    """The tenant of the running request or job; raises ``TenantNotSet`` when there is none."""
    tenant = _current.get()
    if tenant is None:
        raise TenantNotSet("no tenant is set: tenant-scoped code ran outside a tenant context")
    return tenant


def maybe_current_tenant() -> TenantContext | None:
    return _current.get()


@contextlib.contextmanager
def tenant_scope(tenant: TenantContext) -> Iterator[TenantContext]:
    """Run a block as ``tenant``; the previous context is restored afterwards."""
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)
