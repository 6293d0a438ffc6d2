"""Engines and sessions.

Two engines share one URL. The *owner* engine runs migrations and provisioning as the login
role. The *application* engine switches every new connection to the application role (which
cannot UPDATE or DELETE audit rows) and empties its ``search_path``, so a tenant query that
somehow escaped ``schema_translate_map`` fails instead of reading another tenant.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.naming import quote_schema

AfterCommit = Callable[[], Awaitable[None]]


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs and use the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


class Database:
    """The process's database handles. Create one per process; ``await dispose()`` at exit."""

    def __init__(self, url: str, *, app_role: str | None, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.app_role = app_role or None
        self.owner_engine = create_async_engine(self.url, poolclass=NullPool)
        self.engine = create_async_engine(
            self.url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True
        )
        event.listen(self.engine.sync_engine, "connect", self._on_connect)
        self._tenant_engines: dict[str, AsyncEngine] = {}
        self._lock_engine: AsyncEngine | None = None

    @property
    def lock_engine(self) -> AsyncEngine:
        """Connections that only hold advisory locks (``propdesk.db.locks``): a pool of their
        own, so waiting for a lock never takes a connection the work inside needs."""
        if self._lock_engine is None:
            self._lock_engine = create_async_engine(
                self.url, pool_size=2, max_overflow=62, pool_pre_ping=True
            )
        return self._lock_engine

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        statements = ["SET search_path TO ''"]
        if self.app_role:
            statements.insert(0, f'SET ROLE "{self.app_role}"')
        for statement in statements:
            dbapi_connection.run_async(lambda conn, s=statement: conn.execute(s))

    def tenant_engine(self, schema: str) -> AsyncEngine:
        """The application engine with tenant tables translated to ``schema`` (shared pool)."""
        quote_schema(schema)  # validates
        engine = self._tenant_engines.get(schema)
        if engine is None:
            engine = self.engine.execution_options(schema_translate_map={None: schema})
            self._tenant_engines[schema] = engine
        return engine

    def session(self, tenant: TenantContext | None = None) -> AsyncSession:
        """A session for one tenant (or for shared tables only, when ``tenant`` is None)."""
        bind = self.engine if tenant is None else self.tenant_engine(tenant.schema)
        return AsyncSession(bind=bind, expire_on_commit=False)

    @contextlib.asynccontextmanager
    async def unit_of_work(
        self, tenant: TenantContext | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on error, then run after-commit work."""
        async with self.session(tenant) as session:
            async with session.begin():
                yield session
            for callback in session.info.pop("after_commit", []):
                await callback()

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.owner_engine.dispose()
        if self._lock_engine is not None:
            await self._lock_engine.dispose()


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the unit of work of ``session`` has committed."""
    session.info.setdefault("after_commit", []).append(callback)
