"""Fixtures for tests against real PostgreSQL and Redis (see ``propdesk.testing``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from propdesk.embedded import ServiceUrls
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.testing.services import (
    create_database,
    drop_database,
    service_dir,
    test_services,
    unique_name,
)

if TYPE_CHECKING:
    from propdesk.testing.smtp import SmtpServer


@pytest.fixture(scope="session")
def propdesk_urls() -> Iterator[ServiceUrls]:
    """PostgreSQL (maintenance database URL) and Redis for this test session."""
    with service_dir() as folder, test_services(folder) as urls:
        yield urls


@pytest.fixture(scope="session")
def propdesk_settings(
    propdesk_urls: ServiceUrls, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings for tests: a queue name of their own so parallel runs never share jobs."""
    return Settings(
        database_url=None,
        redis_url=propdesk_urls.redis_url,
        data_dir=tmp_path_factory.mktemp("data"),
        queue_name=unique_name("propdesk_test_queue"),
        log_format="console",
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def propdesk_database_url(propdesk_urls: ServiceUrls) -> AsyncIterator[str]:
    """A fresh database for this test session, dropped at the end."""
    name = unique_name("propdesk_test")
    url = await create_database(propdesk_urls.database_url, name)
    yield url
    await drop_database(propdesk_urls.database_url, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def propdesk_runtime(
    propdesk_settings: Settings, propdesk_database_url: str, propdesk_urls: ServiceUrls
) -> AsyncIterator[Runtime]:
    """A runtime on the session's database, with the shared schema migrated."""
    from propdesk.tenancy.provisioning import migrate_shared

    async with open_runtime(
        propdesk_settings.model_copy(update={"database_url": propdesk_database_url}),
        database_url=propdesk_database_url,
        redis_url=propdesk_urls.redis_url,
        require_migrated=False,
    ) as runtime:
        await migrate_shared(runtime.db, runtime.host)
        yield runtime


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port for one test; ``.inbox`` holds what arrived
    (``inbox.to(address)``). Needs ``aiosmtpd``."""
    from propdesk.testing.smtp import running_smtp

    with running_smtp() as server:
        yield server


MakeTenant = Callable[..., Awaitable[TenantContext]]


@pytest_asyncio.fixture(loop_scope="session")
async def make_tenant(propdesk_runtime: Runtime) -> AsyncIterator[MakeTenant]:
    """``await make_tenant("acme", display_name=..., plugins={...})``: provision a tenant.

    Unique slugs per call are the caller's business; an existing slug is updated in place.
    The desks made are suspended when the test ends, so later tests' outbox sweeps (which serve
    every active desk of the shared test database) do not inherit their undelivered events.
    """
    from propdesk.tenancy.manifest import TenantManifest
    from propdesk.tenancy.service import apply_manifests, get_tenant, set_status

    made: list[str] = []

    async def make(slug: str, **values: Any) -> TenantContext:
        manifest = TenantManifest.from_values(slug, **values)
        await apply_manifests(propdesk_runtime, [manifest])
        tenant = await get_tenant(propdesk_runtime, slug)
        assert tenant is not None
        if tenant.status != "active":  # an earlier test made it, and suspended it when done
            await set_status(propdesk_runtime, slug, "active", "test", "a new test")
            tenant = await get_tenant(propdesk_runtime, slug)
            assert tenant is not None
        made.append(slug)
        return tenant

    yield make
    for slug in made:
        tenant = await get_tenant(propdesk_runtime, slug)
        if tenant is not None and tenant.status == "active":
            await set_status(propdesk_runtime, slug, "suspended", "test", "the test finished")
