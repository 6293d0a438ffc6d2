"""Versions in PostgreSQL: drafts, validated publishing, numbering, immutability, audit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from catalogue_samples import FAMILIES
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from propdesk.audit.service import list_records, verify
from propdesk.catalogue import service
from propdesk.catalogue.models import CatalogueVersion
from propdesk.catalogue.product import content_hash
from propdesk.errors import InvalidInput, NotFound
from propdesk.outbox.models import OutboxEvent
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.naming import quote_schema

ACTOR = "user:test"


@contextlib.asynccontextmanager
async def owner_sql(runtime: Runtime, desk: TenantContext) -> AsyncIterator[AsyncConnection]:
    """A connection as the owner role with the desk's schema first on the search path."""
    async with runtime.db.owner_engine.connect() as conn:
        await conn.exec_driver_sql(f"SET search_path TO {quote_schema(desk.schema)}")
        yield conn


async def publish(runtime: Runtime, desk: TenantContext, content) -> service.PublishResult:
    async with runtime.db.unit_of_work(desk) as session:
        return await service.publish_content(session, runtime.queue, FAMILIES, content, ACTOR)


async def rows(runtime: Runtime, desk: TenantContext) -> list[CatalogueVersion]:
    async with runtime.db.session(desk) as session:
        return list(await session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.id)))


async def test_publishing_numbers_versions_and_identical_content_is_a_no_op(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    first = await publish(propdesk_runtime, desk, two_step)
    assert first.changed
    assert (first.version.version, first.version.status) == (1, "published")
    assert first.version.content_hash == content_hash(two_step)
    assert first.line == f"published two-step v1 ({content_hash(two_step)})"

    again = await publish(propdesk_runtime, desk, two_step)
    assert not again.changed
    assert again.line == "two-step unchanged (v1)"

    two_step["sizes"][0]["prices"]["USD"] = "355.00"
    second = await publish(propdesk_runtime, desk, two_step)
    assert (second.version.version, second.changed) == (2, True)
    assert [(r.version, r.status) for r in await rows(propdesk_runtime, desk)] == [
        (1, "published"),
        (2, "published"),
    ]

    async with propdesk_runtime.db.session(desk) as session:
        records = await list_records(session, "tenant", action="catalogue.published")
        events = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.name == "catalogue.published")
            )
        ).all()
        assert (await verify(session, "tenant")).ok
    assert [(r.target, r.after["version"]) for r in records] == [
        ("product:two-step", 1),
        ("product:two-step", 2),
    ]
    assert records[1].before == {"version": 1, "content_hash": first.version.content_hash}
    assert [e.payload["version"] for e in events] == [1, 2]
    assert events[1].payload["content_hash"] == second.version.content_hash


async def test_an_invalid_product_publishes_nothing_and_lists_every_problem(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    two_step["currency"] = "dollars"
    two_step["phases"][0]["rules"][0]["params"]["amount"]["percent"] = "five"
    with pytest.raises(InvalidInput) as raised:
        await publish(propdesk_runtime, desk, two_step)
    assert raised.value.detail == "product 'two-step' has 2 problems: nothing was published"
    assert [p.field for p in raised.value.problems] == [
        "/currency",
        "/phases/0/rules/0/params/amount/percent",
    ]
    assert await rows(propdesk_runtime, desk) == []
    async with propdesk_runtime.db.session(desk) as session:
        assert await list_records(session, "tenant", action="catalogue.published") == []
        names = (await session.scalars(select(OutboxEvent.name))).all()
    assert "catalogue.published" not in names


async def test_drafts_keep_invalid_work_and_publish_only_when_valid(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    runtime = propdesk_runtime
    broken = {**two_step, "currency": "usd"}
    async with runtime.db.unit_of_work(desk) as session:
        saved = await service.save_draft(session, FAMILIES, "two-step", broken, ACTOR)
    assert saved.created and saved.changed
    assert [p.pointer for p in saved.problems] == ["/currency"]

    with pytest.raises(InvalidInput) as raised:
        async with runtime.db.unit_of_work(desk) as session:
            await service.publish(session, runtime.queue, FAMILIES, "two-step", ACTOR)
    assert [p.field for p in raised.value.problems] == ["/currency"]
    assert [(r.status, r.version) for r in await rows(runtime, desk)] == [("draft", None)]

    async with runtime.db.unit_of_work(desk) as session:
        fixed = await service.save_draft(session, FAMILIES, "two-step", two_step, ACTOR)
    assert (fixed.created, fixed.changed, fixed.problems) == (False, True, [])
    async with runtime.db.unit_of_work(desk) as session:
        result = await service.publish(session, runtime.queue, FAMILIES, "two-step", ACTOR)
    assert (result.version.version, result.version.status) == (1, "published")
    assert [(r.status, r.version) for r in await rows(runtime, desk)] == [("published", 1)]

    # The same content again as a draft: publishing it changes nothing.
    async with runtime.db.unit_of_work(desk) as session:
        await service.save_draft(session, FAMILIES, "two-step", two_step, ACTOR)
        again = await service.publish(session, runtime.queue, FAMILIES, "two-step", ACTOR)
    assert not again.changed and again.version.version == 1


async def test_a_draft_must_carry_the_code_it_is_saved_under(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    with pytest.raises(InvalidInput) as raised:
        async with propdesk_runtime.db.unit_of_work(desk) as session:
            await service.save_draft(session, FAMILIES, "one-step", two_step, ACTOR)
    assert [str(p) for p in raised.value.problems] == [
        "/code: is 'two-step' but must be 'one-step'"
    ]


async def test_published_content_cannot_be_changed_even_through_sql(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    await publish(propdesk_runtime, desk, two_step)
    for statement, refusal in [
        (
            "UPDATE catalogue_versions SET content = jsonb_set(content, '{currency}', '\"EUR\"')",
            "its content is immutable",
        ),
        ("UPDATE catalogue_versions SET content_hash = 'sha256:0'", "its content is immutable"),
        ("UPDATE catalogue_versions SET version = 7", "its content is immutable"),
        (
            "UPDATE catalogue_versions SET status = 'draft', published_at = NULL",
            "published -> draft refused",
        ),
        ("DELETE FROM catalogue_versions", "cannot be deleted"),
        ("TRUNCATE catalogue_versions", "cannot be truncated"),
    ]:
        # The owner role, not just the app role: the trigger binds everyone.
        async with owner_sql(propdesk_runtime, desk) as conn:
            with pytest.raises(DBAPIError, match=refusal):
                await conn.execute(text(statement))
    [row] = await rows(propdesk_runtime, desk)
    assert row.content == two_step and row.content_hash == content_hash(two_step)


async def test_retiring_a_version_and_the_status_order(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    runtime = propdesk_runtime
    await publish(runtime, desk, two_step)
    async with runtime.db.unit_of_work(desk) as session:
        retired = await service.retire(session, runtime.queue, "two-step", 1, ACTOR)
        again = await service.retire(session, runtime.queue, "two-step", 1, ACTOR)
    assert retired.changed and not again.changed
    assert retired.version.retired_by == ACTOR
    async with owner_sql(runtime, desk) as conn:
        with pytest.raises(DBAPIError, match="retired -> published refused"):
            await conn.execute(
                text("UPDATE catalogue_versions SET status = 'published', retired_at = NULL")
            )
    # Retired content is not "on sale": publishing it again makes v2.
    republished = await publish(runtime, desk, two_step)
    assert (republished.changed, republished.version.version) == (True, 2)

    async with runtime.db.unit_of_work(desk) as session:
        await service.save_draft(session, FAMILIES, "two-step", two_step, ACTOR)
    with pytest.raises(NotFound, match=r"has no version 9 \(versions: v1, v2\)"):
        async with runtime.db.unit_of_work(desk) as session:
            await service.retire(session, runtime.queue, "two-step", 9, ACTOR)
    async with runtime.db.session(desk) as session:
        records = await list_records(session, "tenant", action="catalogue.retired")
        names = (await session.scalars(select(OutboxEvent.name))).all()
    assert [r.after for r in records] == [
        {"version": 1, "content_hash": content_hash(two_step), "status": "retired"}
    ]
    assert "catalogue.retired" in names


async def test_listing_products_and_diffing_versions(
    propdesk_runtime: Runtime, desk: TenantContext, two_step
):
    runtime = propdesk_runtime
    await publish(runtime, desk, two_step)
    two_step["payout"]["split_percent"] = "85"
    await publish(runtime, desk, two_step)
    one_step = {**two_step, "code": "one-step", "name": "One-Step"}
    async with runtime.db.unit_of_work(desk) as session:
        await service.save_draft(session, FAMILIES, "one-step", one_step, ACTOR)
    async with runtime.db.session(desk) as session:
        products = await service.list_products(session)
        changes = await service.diff_versions(session, "two-step", 1, 2)
        versions = await service.list_versions(session, "one-step")
    assert [(p.code, p.name, p.published, p.versions, p.has_draft) for p in products] == [
        ("one-step", "One-Step", None, 0, True),
        ("two-step", "Two-Step Challenge", 2, 2, False),
    ]
    assert changes == [
        {"pointer": "/payout/split_percent", "change": "changed", "before": "80", "after": "85"}
    ]
    assert [(v.status, v.version) for v in versions] == [("draft", None)]
