"""`db upgrade` migrates every tenant schema and reports failures without stopping the others."""

from __future__ import annotations

import textwrap
import types
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from alembic.script import ScriptDirectory
from sqlalchemy import text

import propdesk.db
from propdesk import hookimpl
from propdesk.db.migrate import MigrationLocation
from propdesk.embedded import ServiceUrls
from propdesk.plugins.manager import PluginHost
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy import service
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.provisioning import upgrade_all
from propdesk.testing.services import create_database, drop_database, unique_name

TENANTS = [f"mig_{i:02d}" for i in range(50)]

REVISION = textwrap.dedent(
    """
    import sqlalchemy as sa
    from alembic import op

    revision = "greeting_t1"
    down_revision = None
    branch_labels = ("greeting",)
    depends_on = "t0001"


    def upgrade():
        op.create_table("greeting", sa.Column("id", sa.Integer, primary_key=True))


    def downgrade():
        op.drop_table("greeting")
    """
)


def heads_of_tenant_tree() -> str:
    """The core tenant tree's head revision (it moves as issues add tables)."""
    scripts = ScriptDirectory(str(Path(propdesk.db.__file__).parent / "migrations" / "tenant"))
    (head,) = scripts.get_heads()
    return head


@pytest_asyncio.fixture(loop_scope="session")
async def fresh(propdesk_urls: ServiceUrls, propdesk_settings: Settings) -> AsyncIterator[Runtime]:
    """A database of its own: this test adds a plugin branch other tests do not know."""
    name = unique_name("propdesk_mig")
    url = await create_database(propdesk_urls.database_url, name)
    async with open_runtime(
        propdesk_settings,
        database_url=url,
        redis_url=propdesk_urls.redis_url,
        require_migrated=False,
    ) as runtime:
        yield runtime
    await drop_database(propdesk_urls.database_url, name)


def with_plugin_migrations(runtime: Runtime, folder: Path) -> Runtime:
    plugin = types.ModuleType("greeting")
    plugin.propdesk_register_migrations = hookimpl(  # type: ignore[attr-defined]
        lambda: [MigrationLocation("tenant", folder)]
    )
    host = PluginHost.load(runtime.settings, [("greeting", plugin)])
    return Runtime(runtime.settings, host, runtime.db, runtime.redis_url)


async def tables_in(runtime: Runtime, table: str) -> set[str]:
    async with runtime.db.owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT table_schema FROM information_schema.tables WHERE table_name = :t"),
            {"t": table},
        )
        return {r[0] for r in rows}


async def test_fifty_tenant_schemas_migrate_and_one_failure_is_reported(
    fresh: Runtime, tmp_path: Path
) -> None:
    manifests = [TenantManifest.from_values(slug) for slug in TENANTS]
    report = await service.apply_manifests(fresh, manifests)
    assert all(t.created for t in report.tenants)
    assert len(await tables_in(fresh, "outbox")) == 50

    (tmp_path / "greeting_t1.py").write_text(REVISION)
    upgraded = with_plugin_migrations(fresh, tmp_path)
    async with fresh.db.owner_engine.begin() as conn:  # sabotage one desk
        await conn.execute(text('CREATE TABLE "t_mig_07".greeting (x int)'))

    result = await upgrade_all(upgraded.db, upgraded.host)

    assert set(result.failures) == {"mig_07"}
    assert "already exists" in result.failures["mig_07"]
    assert {slug for slug, heads in result.tenants.items() if heads} == set(TENANTS) - {"mig_07"}
    assert await tables_in(fresh, "greeting") == {f"t_{s}" for s in TENANTS}
    async with fresh.db.owner_engine.connect() as conn:
        failed = set(await conn.scalars(text('SELECT version_num FROM "t_mig_07".alembic_version')))
        migrated = set(
            await conn.scalars(text('SELECT version_num FROM "t_mig_08".alembic_version'))
        )
    core_head = heads_of_tenant_tree()
    assert failed == {core_head}, "the failed tenant was rolled back to its previous revision"
    assert migrated == {core_head, "greeting_t1"}

    again = await upgrade_all(upgraded.db, upgraded.host)
    assert set(again.failures) == {"mig_07"}
    assert not any(again.tenants.values()), "a second run changes nothing"
