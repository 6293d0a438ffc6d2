"""Shared setup of the engine's tests: a desk with a product, challenges with accounts, a running
engine in the test's event loop, and waiting for the engine to get somewhere."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from propdesk.catalogue.product import content_hash
from propdesk.catalogue.service import publish_files
from propdesk.embedded import ServiceUrls
from propdesk.engine.ingest import deliver
from propdesk.engine.runner import Engine, EngineConfig
from propdesk.lifecycle.service import apply_transition, open_challenge
from propdesk.lifecycle.transitions import Paid, Provisioned
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.naming import quote_schema
from propdesk.tenancy.service import apply_manifests, get_tenant, list_tenants, set_status
from propdesk.testing.platform import RecordingPlatform, recording_plugin
from propdesk.testing.services import unique_name
from propdesk.testing.simulators import eventually as wait_for  # the engine tests' name
from propdesk.testing.smtp import Inbox, running_smtp


# -- a real SMTP server (aiosmtpd) on a free local port ------------------------------------------
@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with running_smtp() as server:
        yield server.port, server.inbox


#: A two-step-like phase: 5% daily loss from the day-start balance, 10% static max loss,
#: a 10% target. Days reset at 00:00 Prague time.
PRODUCT: dict[str, Any] = {
    "code": "engine-test",
    "name": "Engine test challenge",
    "currency": "USD",
    "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
    "sizes": [{"code": "100k", "balance": "100000", "prices": {"USD": "540.00"}}],
    "payout": {"split_percent": "80", "cadence": "on_demand"},
    "phases": [
        {
            "code": "phase1",
            "name": "Phase 1",
            "kind": "evaluation",
            "platform": "recording",
            "group": "demo\\engine\\phase1",
            "leverage": 100,
            "rules": [
                {
                    "family": "daily_loss",
                    "params": {"amount": {"percent": "5", "of": "initial_balance"}},
                },
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
                {
                    "family": "profit_target",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
            ],
        },
        {
            "code": "funded",
            "name": "Funded",
            "kind": "funded",
            "platform": "recording",
            "group": "real\\engine\\funded",
            "leverage": 100,
            "rules": [
                {
                    "family": "daily_loss",
                    "params": {"amount": {"percent": "5", "of": "initial_balance"}},
                },
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
            ],
        },
    ],
}
VERSION = content_hash(PRODUCT)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engine_runtime(
    propdesk_runtime: Runtime,
    propdesk_settings: Settings,
    propdesk_urls: ServiceUrls,
    propdesk_database_url: str,
) -> AsyncIterator[Runtime]:
    """A runtime with the recording platform registered, on the session's database, with a
    queue of its own (so each module's engine reads only its own nudges)."""
    settings = propdesk_settings.model_copy(update={"queue_name": unique_name("engine_test")})
    async with open_runtime(
        settings,
        database_url=propdesk_database_url,
        redis_url=propdesk_urls.redis_url,
        extra_plugins=[("recording", recording_plugin())],
    ) as runtime:
        before = {t.slug for t in await list_tenants(runtime)}
        yield runtime
        # Leave the desks made here suspended, so later tests' outbox sweeps (which serve every
        # active desk of the shared test database) do not inherit their undelivered events.
        for tenant in await list_tenants(runtime):
            if tenant.slug not in before and tenant.status == "active":
                await set_status(runtime, tenant.slug, "suspended", "test")


async def open_desk(
    runtime: Runtime, *, server: str | None, product: dict[str, Any] = PRODUCT
) -> TenantContext:
    """A desk fed by bridges (no polling) with ``product`` published; with the recording
    platform ``server`` enabled unless ``server`` is None."""
    slug = unique_name("eng").lower()[:30]
    plugins: dict[str, Any] = {"propdesk.engine": {"poll_seconds": 0}}
    if server is not None:
        plugins["recording"] = {"server": server}
    return await _desk_with_product(runtime, slug, plugins, product)


async def _desk_with_product(
    runtime: Runtime, slug: str, plugins: dict[str, Any], product: dict[str, Any]
) -> TenantContext:
    await apply_manifests(runtime, [TenantManifest.from_values(slug, plugins=plugins)])
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product.json"
        path.write_text(json.dumps(product))
        await publish_files(runtime, tenant, [path], actor="test")
    return tenant


async def open_mail_desk(
    runtime: Runtime,
    *,
    prefix: str,
    server_prefix: str,
    smtp_port: int | None,
    from_address: str,
    product: dict[str, Any] = PRODUCT,
    recording: dict[str, Any] | None = None,
) -> tuple[TenantContext, RecordingPlatform]:
    """A desk on a recording platform of its own, its e-mail sent to ``smtp_port`` (none when
    ``None``), with ``product`` published."""
    slug = f"{prefix}_{uuid.uuid4().hex[:10]}"
    server = f"{server_prefix}-{slug}"
    plugins: dict[str, Any] = {
        "recording": {"server": server, **(recording or {})},
        "propdesk.engine": {"poll_seconds": 0},
    }
    if smtp_port is not None:
        plugins["propdesk.email"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from_address": from_address,
        }
    tenant = await _desk_with_product(runtime, slug, plugins, product)
    return tenant, RecordingPlatform({"server": server})


async def open_account(
    runtime: Runtime,
    tenant: TenantContext,
    *,
    login: str,
    opened_at: datetime,
    balance: str = "100000",
    product: dict[str, Any] = PRODUCT,
    server: str | None = None,
) -> Opened:
    """An active challenge on phase 1 with trading account ``recording:<login>`` (also opened
    on the recording platform ``server``); its opening is journalled as seq 1."""
    schema = quote_schema(tenant.schema)
    if server is not None:
        RecordingPlatform({"server": server}).bulk_open([login], Decimal(balance))
    async with runtime.db.unit_of_work(tenant) as session:
        challenge = await open_challenge(
            session,
            runtime.queue,
            product_code=product["code"],
            size="100k",
            addons=[],
            trader_email=f"{login}@traders.example",
            trader_name=f"Trader {login}",
            actor="test",
        )
        challenge_id = challenge.id
        await apply_transition(
            session, runtime.queue, challenge_id, Paid(at=opened_at), actor="test"
        )
        await apply_transition(
            session,
            runtime.queue,
            challenge_id,
            Provisioned(at=opened_at, account=f"recording:{login}"),
            actor="test",
        )
        account_id = await session.scalar(
            text(
                f"INSERT INTO {schema}.trading_accounts (challenge_id, phase, attempt, phase_code,"
                " platform, login, product_code, version_hash, size, addons, currency,"
                " initial_balance, opened_at) VALUES (:c, 0, 1, 'phase1', 'recording', :l, :p,"
                " :v, '100k', '[]', 'USD', :b, :t) RETURNING id"
            ),
            {
                "c": challenge_id,
                "l": login,
                "p": product["code"],
                "v": content_hash(product),
                "b": balance,
                "t": opened_at,
            },
        )
        await session.execute(
            text(f"INSERT INTO {schema}.account_state (account_id, version_hash) VALUES (:a, :v)"),
            {"a": account_id, "v": content_hash(product)},
        )
    await send(runtime, tenant, [opened(login, opened_at, balance)])
    return Opened(int(account_id), int(challenge_id), login)


@dataclass(frozen=True)
class Opened:
    account_id: int
    challenge_id: int
    login: str


def opened(login: str, at: datetime, balance: str = "100000") -> dict[str, Any]:
    return {
        "platform": "recording",
        "login": login,
        "seq": 1,
        "type": "account_opened",
        "time": at.isoformat(),
        "balance": balance,
    }


def snapshot(
    login: str, seq: int, at: datetime, equity: str, balance: str = "100000"
) -> dict[str, Any]:
    return {
        "platform": "recording",
        "login": login,
        "seq": seq,
        "type": "snapshot",
        "time": at.isoformat(),
        "balance": balance,
        "equity": equity,
    }


async def send(runtime: Runtime, tenant: TenantContext, items: list[dict[str, Any]]) -> Any:
    async with runtime.db.unit_of_work(tenant) as session:
        return await deliver(runtime, session, items)


@contextlib.asynccontextmanager
async def running_engine(runtime: Runtime, **config: Any) -> AsyncIterator[Engine]:
    settings = {"sweep_seconds": 0.5, **config}
    engine = Engine(runtime, EngineConfig(**settings))
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        await wait_for(lambda: _true(engine.leased), what="the engine to take its lease")
        yield engine
    finally:
        stop.set()
        await task
        await engine.close()


async def _true(value: bool) -> bool:
    return value


async def state(runtime: Runtime, tenant: TenantContext, account_id: int) -> dict[str, Any]:
    async with runtime.db.session(tenant) as session:
        row = (
            (
                await session.execute(
                    text(
                        f"SELECT * FROM {quote_schema(tenant.schema)}.account_state "
                        "WHERE account_id = :a"
                    ),
                    {"a": account_id},
                )
            )
            .mappings()
            .one()
        )
        return dict(row)


async def verdicts(
    runtime: Runtime, tenant: TenantContext, account_id: int
) -> list[dict[str, Any]]:
    async with runtime.db.session(tenant) as session:
        rows = await session.execute(
            text(
                f"SELECT event, decided_at, rule, explanation, input_sha256, version_hash, verdict "
                f"FROM {quote_schema(tenant.schema)}.account_verdicts "
                "WHERE account_id = :a ORDER BY id"
            ),
            {"a": account_id},
        )
        return [dict(r) for r in rows.mappings().all()]


def minutes_ago(minutes: float) -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).replace(microsecond=0)
