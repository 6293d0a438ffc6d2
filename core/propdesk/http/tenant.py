"""Tenant resolution: which desk a request is for.

Order: the ``X-Propdesk-Tenant: <slug>`` header, else the ``Host`` header matched against the
desks' domains, else the desk an API token is scoped to. A token scoped to desk A used for
desk B is refused (403), an unknown slug is 404, a suspended desk is 403 ``TenantUnavailable``.

The registry is cached per process (``TenantDirectory``) and reloaded when a message arrives
on the Redis channel ``propdesk:tenants`` (published after suspend, resume and apply) and at
most every few seconds otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from propdesk.db.engine import Database
from propdesk.errors import Forbidden, NotFound, TenantUnavailable
from propdesk.pubsub import TENANTS_CHANNEL
from propdesk.tenancy.context import TenantContext, tenant_scope
from propdesk.tenancy.directory import domain_map, load_tenants

log = logging.getLogger("propdesk.http.tenant")

TENANT_HEADER = "x-propdesk-tenant"
#: How long a request may wait for the subscription to ``propdesk:tenants``.
SUBSCRIBE_TIMEOUT = 1.0
#: Route ``opt`` key that skips tenant resolution (health checks, the OpenAPI schema).
NO_TENANT_OPT = "no_tenant"


@dataclass(frozen=True)
class TenantSnapshot:
    """The registry at one moment: desks by slug, and host name to slug."""

    tenants: Mapping[str, TenantContext] = field(default_factory=dict)
    domains: Mapping[str, str] = field(default_factory=dict)


class TenantDirectory:
    """The process's cached tenant registry, refreshed on ``propdesk:tenants`` and by TTL."""

    def __init__(
        self,
        db: Database,
        redis: Redis | None,
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._redis = redis
        self._ttl = ttl
        self._clock = clock
        self._snapshot: TenantSnapshot | None = None
        self._loaded_at = 0.0
        self._stale = True
        self._lock = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._subscribe_after = 0.0

    def invalidate(self) -> None:
        """Reload on the next lookup."""
        self._stale = True

    async def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None

    async def _subscribe(self) -> None:
        """Subscribe (best effort: without Redis the TTL still bounds staleness)."""
        if self._redis is None or self._clock() < self._subscribe_after:
            return
        pubsub = self._redis.pubsub()
        try:
            # Requests wait on this: keep it short, the TTL covers a slow Redis.
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await pubsub.subscribe(TENANTS_CHANNEL)
                # Wait for the confirmation: from here on no announcement can be missed.
                await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT)
        except Exception as exc:
            self._subscribe_after = self._clock() + self._ttl
            log.warning("cannot subscribe to %s: %s", TENANTS_CHANNEL, exc)
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            return
        self._pubsub = pubsub
        # Changes made before the subscription took effect would be missed: reload.
        self._stale = True

    async def _drain(self) -> None:
        """Read the announcements already received, without waiting for new ones."""
        if self._pubsub is None:
            await self._subscribe()
            return
        try:
            # Subscription confirmations come through here too: read until nothing is left.
            while (message := await self._pubsub.get_message(timeout=0.0)) is not None:
                if message.get("type") == "message":
                    self._stale = True
        except Exception as exc:
            log.warning("lost the %s subscription: %s", TENANTS_CHANNEL, exc)
            await self.close()
            self._stale = True

    async def snapshot(self) -> TenantSnapshot:
        """The registry, reloaded first if an announcement arrived or the TTL ran out."""
        async with self._lock:
            await self._drain()
            expired = self._clock() - self._loaded_at >= self._ttl
            if self._snapshot is None or self._stale or expired:
                self._stale = False
                try:
                    self._snapshot = await self._load()
                except Exception:
                    self._stale = True
                    raise
                self._loaded_at = self._clock()
            return self._snapshot

    async def _load(self) -> TenantSnapshot:
        async with self._db.session() as session:
            tenants = await load_tenants(session)
            domains = await domain_map(session)
        return TenantSnapshot({t.slug: t for t in tenants}, domains)


def host_name(host: str | None) -> str | None:
    """``Host`` header without port, lowercased (``[::1]:8000`` -> ``[::1]``)."""
    if not host:
        return None
    host = host.strip().lower()
    if not host.endswith("]") and ":" in host:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".") or None


def resolve(
    snapshot: TenantSnapshot,
    *,
    header_slug: str | None,
    host: str | None,
    token_tenant: str | None,
) -> TenantContext | None:
    """Pick the request's desk (pure); raises the problem the caller should answer with."""
    slug: str | None = None
    if header_slug is not None and header_slug.strip():
        slug = header_slug.strip()
        if slug not in snapshot.tenants:
            raise NotFound(f"there is no desk {slug!r}: check the X-Propdesk-Tenant header")
    elif (name := host_name(host)) is not None and name in snapshot.domains:
        slug = snapshot.domains[name]
    elif token_tenant is not None:
        slug = token_tenant
        if slug not in snapshot.tenants:
            raise NotFound(f"the desk {slug!r} of this API token no longer exists")
    if slug is None:
        return None
    if token_tenant is not None and token_tenant != slug:
        raise Forbidden(
            f"this API token is scoped to desk {token_tenant!r} and cannot be used for {slug!r}"
        )
    tenant = snapshot.tenants[slug]
    if tenant.status != "active":
        raise TenantUnavailable(f"the desk {slug!r} is {tenant.status}")
    return tenant


def request_tenant(scope: Scope | Mapping[str, Any]) -> TenantContext | None:
    """The tenant resolved for this request, or None."""
    state = scope.get("state") or {}
    tenant = state.get("tenant")
    return tenant if isinstance(tenant, TenantContext) else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class TenantMiddleware(ASGIMiddleware):
    """Resolve the desk, store it in ``scope["state"]["tenant"]`` and run the rest in its scope.

    Runs after authentication (it reads the API token's desk from ``scope["user"]``).
    Handlers with ``opt={"no_tenant": True}`` skip it.
    """

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)
    exclude_opt_key = NO_TENANT_OPT

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        directory: TenantDirectory = scope["litestar_app"].state.tenants
        principal = scope.get("user")
        tenant = resolve(
            await directory.snapshot(),
            header_slug=_header(scope, TENANT_HEADER.encode()),
            host=_header(scope, b"host"),
            token_tenant=getattr(principal, "token_tenant", None),
        )
        if tenant is None:
            await next_app(scope, receive, send)
            return
        scope.setdefault("state", {})["tenant"] = tenant
        with tenant_scope(tenant), structlog.contextvars.bound_contextvars(tenant=tenant.slug):
            await next_app(scope, receive, send)
