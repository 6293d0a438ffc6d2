"""Creating, updating, suspending and resuming tenants: one transaction per tenant, audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from propdesk.access import policies
from propdesk.audit.service import record
from propdesk.catalogue import service as catalogue
from propdesk.catalogue.families import rule_families
from propdesk.db.engine import AfterCommit
from propdesk.errors import FieldProblem, InvalidInput, ManifestError, NotFound
from propdesk.outbox.service import emit
from propdesk.pubsub import POLICY_CHANNEL, TENANTS_CHANNEL, publish
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.directory import load_tenant, load_tenants
from propdesk.tenancy.manifest import TenantManifest, check_plugins, find_manifests, read_manifest
from propdesk.tenancy.models import Tenant, TenantPlugin
from propdesk.tenancy.naming import schema_for
from propdesk.tenancy.provisioning import migrate_shared, migrate_tenant_schema


def _joined(conn: AsyncConnection) -> AsyncSession:
    """A session inside the caller's transaction (its commit releases a savepoint)."""
    return AsyncSession(bind=conn, join_transaction_mode="create_savepoint")


_FIELDS = ("display_name", "domains", "base_currency", "timezone", "theme")


@dataclass
class TenantChanges:
    slug: str
    created: bool = False
    changes: list[str] = field(default_factory=list)


@dataclass
class ApplyReport:
    group: list[str] = field(default_factory=list)
    tenants: list[TenantChanges] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.group) or any(t.changes for t in self.tenants)


def load_manifests(path: Path, runtime: Runtime) -> list[TenantManifest]:
    """Read and check every manifest under ``path``; raise listing all problems of all files."""
    folders = find_manifests(path)
    if not folders:
        raise InvalidInput(f"no tenant manifests (*/tenant.toml) under {path}")
    manifests, errors = [], []
    for folder in folders:
        try:
            manifests.append(read_manifest(folder, runtime.host))
        except ManifestError as exc:
            errors.append(exc)
    domains: dict[str, str] = {}
    for manifest in manifests:
        for i, domain in enumerate(manifest.domains):
            if domain in domains:
                errors.append(
                    ManifestError(
                        manifest.source,
                        [
                            FieldProblem(
                                f"/domains/{i}", f"{domain!r} is already used by {domains[domain]}"
                            )
                        ],
                    )
                )
            domains[domain] = manifest.source
    for manifest in manifests:
        errors += _product_errors(manifest, runtime)
    if errors:
        raise ManifestError(
            f"under {path}",
            [FieldProblem(f"{e.path}#{p.field}", p.message) for e in errors for p in e.problems],
        )
    return manifests


def _product_errors(manifest: TenantManifest, runtime: Runtime) -> list[ManifestError]:
    """Problems of the desk's products (``challenges/*.json``), one error per file."""
    if manifest.folder is None:
        return []
    families = rule_families(runtime.host, TenantContext(manifest.slug, plugins=manifest.plugins))
    files = catalogue.check_files(catalogue.folder_files(manifest.folder), families)
    return [
        ManifestError(str(f.path), [FieldProblem(p.pointer, p.message) for p in f.problems])
        for f in files
        if f.problems
    ]


async def apply_manifests(
    runtime: Runtime, manifests: list[TenantManifest], actor: str = "system"
) -> ApplyReport:
    """Create or update each tenant to match its manifest; idempotent."""
    for manifest in manifests:
        problems = check_plugins(manifest.plugins, runtime.host)
        if problems:
            raise ManifestError(manifest.source, problems)
    report = ApplyReport()
    migrated = await migrate_shared(runtime.db, runtime.host)
    if migrated:
        report.group.append(f"shared schema migrated to {', '.join(migrated)}")
    permissions = runtime.host.permissions()
    async with runtime.db.owner_engine.begin() as conn:
        async with _joined(conn) as session:
            report.group += await policies.sync_group_roles(session, permissions)
            if report.group:
                await record(
                    session,
                    chain="shared",
                    actor=actor,
                    action="roles.synced",
                    target="group",
                    after={"changes": report.group},
                )
            await session.commit()
    for manifest in manifests:
        changes = await _apply_one(runtime, manifest, actor)
        if manifest.folder is not None:
            tenant = TenantContext(manifest.slug, manifest.display_name, plugins=manifest.plugins)
            changes.changes += await catalogue.apply_folder(runtime, tenant, manifest.folder, actor)
        report.tenants.append(changes)
    if report.changed:
        await publish(runtime.redis_url, TENANTS_CHANNEL)
        await publish(runtime.redis_url, POLICY_CHANNEL)
    return report


def _row_values(manifest: TenantManifest) -> dict[str, Any]:
    return {
        "display_name": manifest.display_name,
        "domains": list(manifest.domains),
        "base_currency": manifest.base_currency,
        "timezone": manifest.timezone,
        "theme": manifest.theme,
    }


async def _apply_one(runtime: Runtime, manifest: TenantManifest, actor: str) -> TenantChanges:
    result = TenantChanges(manifest.slug)
    committed: list[AfterCommit] = []
    schema = schema_for(manifest.slug)
    async with runtime.db.owner_engine.begin() as conn:
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"tenant:{manifest.slug}"}
        )
        async with _joined(conn) as shared:
            before, after = await _upsert_registry(shared, manifest, result)
            await shared.commit()
        heads = await migrate_tenant_schema(conn, runtime.db, runtime.host, manifest.slug)
        if heads and not result.created:
            result.changes.append(f"schema {schema} migrated to {', '.join(heads)}")
        async with _joined(conn) as shared:
            result.changes += await policies.sync_tenant_roles(
                shared, manifest.slug, runtime.host.permissions()
            )
            await shared.commit()
        if result.changes:
            committed = await _record_change(
                runtime,
                conn,
                result.slug,
                actor,
                ("desk.provisioned", "tenant.created")
                if result.created
                else ("desk.updated", "tenant.updated"),
                before,
                {**after, "changes": result.changes},
            )
    for callback in committed:
        await callback()
    return result


def _exact(value: Any) -> Any:
    """Settings as the audit trail and the desk events carry them: a TOML float
    (``poll_seconds = 0.5``) as the decimal text it was written as, since both refuse floats."""
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


async def _upsert_registry(
    session: AsyncSession, manifest: TenantManifest, result: TenantChanges
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    values = _row_values(manifest)
    after = {**values, "plugins": _exact(manifest.plugins)}
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == manifest.slug))
    if tenant is None:
        tenant = Tenant(slug=manifest.slug, schema_name=schema_for(manifest.slug), **values)
        session.add(tenant)
        await session.flush()
        result.created = True
        result.changes.append(
            f"created desk {manifest.display_name!r} (schema {tenant.schema_name})"
        )
        before = None
    else:
        current = {name: getattr(tenant, name) for name in _FIELDS}
        before = {**current, "plugins": {}}
        for name, value in values.items():
            if current[name] != value:
                result.changes.append(f"{name}: {current[name]!r} -> {value!r}")
                setattr(tenant, name, value)
    rows = {
        row.plugin: row
        for row in await session.scalars(
            select(TenantPlugin).where(TenantPlugin.tenant_id == tenant.id)
        )
    }
    if before is not None:
        before["plugins"] = _exact({name: row.settings for name, row in rows.items()})
    for name, settings in manifest.plugins.items():
        row = rows.pop(name, None)
        if row is None:
            session.add(TenantPlugin(tenant_id=tenant.id, plugin=name, settings=settings))
            result.changes.append(f"enabled plugin {name}")
        elif row.settings != settings:
            row.settings = settings
            result.changes.append(f"changed settings of plugin {name}")
    for name, row in rows.items():
        await session.delete(row)
        result.changes.append(f"disabled plugin {name}")
    return before, after


async def _record_change(
    runtime: Runtime,
    conn: AsyncConnection,
    slug: str,
    actor: str,
    actions: tuple[str, str],
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> list[AfterCommit]:
    """Audit a change to a desk in its own chain, then in the shared chain (the audit service's
    lock order), and tell the desk's plugins through the outbox (event = the desk action).
    Returns the enqueues to run once the caller's transaction has committed."""
    desk_action, shared_action = actions
    tenant_conn = await conn.execution_options(schema_translate_map={None: schema_for(slug)})
    async with _joined(tenant_conn) as desk:
        emit(desk, runtime.queue, desk_action, {"slug": slug, **after})
        await record(
            desk,
            chain="tenant",
            actor=actor,
            action=desk_action,
            target=f"tenant:{slug}",
            before=before,
            after=after,
        )
        await desk.commit()
        committed = list(desk.info.pop("after_commit", []))
    async with _joined(conn) as shared:
        await record(
            shared,
            chain="shared",
            actor=actor,
            action=shared_action,
            target=f"tenant:{slug}",
            before=before,
            after=after,
        )
        await shared.commit()
    return committed


async def get_tenant(runtime: Runtime, slug: str) -> TenantContext | None:
    async with runtime.db.session() as session:
        return await load_tenant(session, slug)


async def list_tenants(runtime: Runtime) -> list[TenantContext]:
    async with runtime.db.session() as session:
        return await load_tenants(session)


async def active_tenant(runtime: Runtime, slug: str) -> TenantContext:
    """The active desk ``slug`` (for endpoints that name their desk in the path, such as a
    provider's webhook); ``NotFound`` otherwise."""
    tenant = await get_tenant(runtime, slug)
    if tenant is None or tenant.status != "active":
        raise NotFound(f"no active desk {slug!r}")
    return tenant


async def set_status(
    runtime: Runtime, slug: str, status: str, actor: str, reason: str | None = None
) -> bool:
    """Suspend or resume a desk; returns False when it already had that status."""
    if status not in ("active", "suspended"):
        raise InvalidInput(
            f"unknown status {status!r}",
            problems=[FieldProblem("status", "must be 'active' or 'suspended'")],
        )
    async with runtime.db.owner_engine.begin() as conn:
        async with _joined(conn) as session:
            tenant = await session.scalar(
                select(Tenant).where(Tenant.slug == slug).with_for_update()
            )
            if tenant is None:
                raise NotFound(f"no desk with slug {slug!r}")
            if tenant.status == status:
                return False
            before = {"status": tenant.status}
            tenant.status = status
            after = {"status": status, "reason": reason}
            await session.commit()
        word = "suspended" if status == "suspended" else "resumed"
        committed = await _record_change(
            runtime, conn, slug, actor, (f"desk.{word}", f"tenant.{word}"), before, after
        )
    for callback in committed:
        await callback()
    await publish(runtime.redis_url, TENANTS_CHANNEL)
    return True
