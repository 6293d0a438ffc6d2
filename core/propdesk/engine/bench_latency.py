"""Breach latency, end to end: from an event reaching ingestion to the breach committed and the
platform action taken.

A throwaway desk gets 100,000 funded-size accounts on the two-step benchmark product. The
engine runs here, with every account in memory, as in a worker that has been up for a while;
a load generator in another process (a bridge, as it were) delivers equity snapshots through
the ingestion service at a steady rate, and now and then a snapshot that breaches the daily
loss of an account. For each of those, the latency runs from the moment the generator hands
the delivery to ingestion to the moment the platform (in process) is told to disable trading,
which the breach's actions do only after the verdict committed.
PostgreSQL and Redis are the ones the process is configured with (local on a developer box).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from propdesk.catalogue.product import content_hash
from propdesk.engine import store
from propdesk.engine.bench import BENCH_PRODUCT
from propdesk.engine.runner import Engine, EngineConfig
from propdesk.lifecycle.codec import transition_to_json
from propdesk.lifecycle.transitions import Paid, Provisioned
from propdesk.rules.clock import utc
from propdesk.tenancy.provisioning import drop_tenant

TARGET_P99_MS = 250.0
TARGET_P50_MS = 25.0
PLATFORM = "recording"
SERVER = "bench-latency"
BALANCE = Decimal(100000)
STALE_AFTER = 86_400


@dataclass
class LatencyResult:
    accounts: int
    rate: int
    seconds: float
    sent: int
    latencies_ms: list[float] = field(default_factory=list)
    breaches_sent: int = 0
    #: How long each delivery took to be journalled and announced to the engine.
    ingest_ms: list[float] = field(default_factory=list)
    setup_seconds: float = 0.0

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies_ms if values is None else values)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def line(self) -> dict[str, Any]:
        return {
            "metric": "breach_latency_p99_ms",
            "value": round(self.percentile(0.99), 1),
            "unit": "ms",
            "target": TARGET_P99_MS,
            "p50_ms": round(self.percentile(0.50), 1),
            "p50_target": TARGET_P50_MS,
            "p95_ms": round(self.percentile(0.95), 1),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 1),
            "breaches": len(self.latencies_ms),
            "ingest_p50_ms": round(self.percentile(0.50, self.ingest_ms), 1),
            "ingest_p99_ms": round(self.percentile(0.99, self.ingest_ms), 1),
            "updates_per_second": round(self.achieved_rate),
            "accounts": self.accounts,
        }


class TimedPlatform:
    """Registers a ``RecordingPlatform`` that notes, in wall-clock time, when each login's
    trading was disabled: the end of the measured path."""

    disabled_at: dict[str, float] = {}

    @classmethod
    def plugin(cls) -> Any:
        from propdesk.testing.platform import RecordingPlatform, recording_plugin

        class Timed(RecordingPlatform):
            async def disable_trading(self, login: str) -> None:
                await super().disable_trading(login)
                cls.disabled_at.setdefault(login, time.time())

        return recording_plugin(Timed)


# -- the desk ---------------------------------------------------------------------------------
async def prepare_desk(runtime: Any, slug: str, accounts: int) -> list[tuple[int, str]]:
    """A desk with the product, ``accounts`` active challenges and their opened accounts."""
    from propdesk.catalogue.service import publish_files
    from propdesk.tenancy.manifest import TenantManifest
    from propdesk.tenancy.service import apply_manifests, get_tenant
    from propdesk.testing.platform import RecordingPlatform

    manifest = TenantManifest.from_values(
        slug,
        display_name="Latency benchmark",
        # Only a fraction of the accounts get a snapshot during a run: at 5,000/s a real bridge
        # reaches every one of 100,000 each 20 s, so none would be stale.
        plugins={
            PLATFORM: {"server": SERVER},
            "propdesk.engine": {"poll_seconds": 0, "stale_after_seconds": STALE_AFTER},
        },
    )
    await apply_manifests(runtime, [manifest])
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.json"
        path.write_text(_json(BENCH_PRODUCT))
        await publish_files(runtime, tenant, [path], actor="bench")
    version = content_hash(BENCH_PRODUCT)
    platform = RecordingPlatform({"server": SERVER})
    opened = datetime.now(UTC).replace(microsecond=0)
    schema = tenant.schema
    phases = [{"code": "phase1", "kind": "evaluation"}]
    logins = [f"9{n:07d}" for n in range(accounts)]
    platform.bulk_open(logins, BALANCE)
    async with runtime.db.unit_of_work(tenant) as session:

        async def run(query: str, **params: Any) -> None:
            await session.execute(store.sql(schema, query), params)

        ids = list(range(1, accounts + 1))
        await run(
            """
            INSERT INTO {s}.challenges (id, trader_email, trader_name, product_code, version_hash,
                ordered_version_hash, size, addons, phases, status, phase, attempt, account,
                extension_days)
            OVERRIDING SYSTEM VALUE
            SELECT i, 'trader' || i || '@bench.invalid', 'Trader ' || i, 'bench-two-step', :v, :v,
                   '100k', '[]', CAST(:phases AS jsonb), 'active', 0, 1,
                   :platform || ':' || l, 0
            FROM unnest(CAST(:ids AS bigint[]), CAST(:logins AS text[])) AS d(i, l)
            """,
            v=version,
            phases=_json(phases),
            platform=PLATFORM,
            ids=ids,
            logins=logins,
        )
        for seq, transition in ((1, Paid(at=opened)), (2, None)):
            await run(
                """
                INSERT INTO {s}.challenge_history (challenge_id, seq, at, event, from_status,
                    to_status, phase, attempt, actor, transition)
                SELECT i, :seq, :at, :event, :before, :after, 0, 1, 'bench',
                       CAST(replace(:body, '@LOGIN@', l) AS jsonb)
                FROM unnest(CAST(:ids AS bigint[]), CAST(:logins AS text[])) AS d(i, l)
                """,
                seq=seq,
                at=opened,
                event="paid" if transition else "provisioned",
                before="awaiting_payment" if transition else "provisioning",
                after="provisioning" if transition else "active",
                body=_json(
                    transition_to_json(
                        transition or Provisioned(at=opened, account=f"{PLATFORM}:@LOGIN@")
                    )
                ),
                ids=ids,
                logins=logins,
            )
        await run(
            """
            INSERT INTO {s}.trading_accounts (id, challenge_id, phase, attempt, phase_code,
                platform, login, product_code, version_hash, size, addons, currency,
                initial_balance, opened_at)
            OVERRIDING SYSTEM VALUE
            SELECT i, i, 0, 1, 'phase1', :platform, l, 'bench-two-step', :v, '100k', '[]',
                   'USD', :balance, :at
            FROM unnest(CAST(:ids AS bigint[]), CAST(:logins AS text[])) AS d(i, l)
            """,
            platform=PLATFORM,
            v=version,
            balance=BALANCE,
            at=opened,
            ids=ids,
            logins=logins,
        )
        await run(
            "INSERT INTO {s}.account_state (account_id, version_hash) "
            "SELECT i, :v FROM unnest(CAST(:ids AS bigint[])) AS d(i)",
            v=version,
            ids=ids,
        )
        body = _json({"balance": str(BALANCE), "time": utc(opened), "type": "account_opened"})
        await run(
            """
            INSERT INTO {s}.account_events (account_id, seq, event_key, type, time, body)
            SELECT i, 1, 'opened', 'account_opened', :at, :body
            FROM unnest(CAST(:ids AS bigint[])) AS d(i)
            """,
            at=opened,
            body=body,
            ids=ids,
        )
    # Ids were given explicitly: move the identity sequences past them (the owner may).
    async with runtime.db.owner_engine.begin() as conn:
        for table in ("challenges", "trading_accounts"):
            await conn.execute(
                store.sql(
                    schema, f"SELECT setval(pg_get_serial_sequence('{{s}}.{table}', 'id'), :n)"
                ),
                {"n": accounts},
            )
    return list(zip(ids, logins, strict=True))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# -- the load generator (another process) -----------------------------------------------------
def _generate(
    urls: tuple[str, str, str],
    slug: str,
    logins: list[str],
    rate: int,
    seconds: float,
    breaches: int,
    seed: int,
    out: Any,
) -> None:
    asyncio.run(_generate_async(urls, slug, logins, rate, seconds, breaches, seed, out))


async def _generate_async(
    urls: tuple[str, str, str],
    slug: str,
    logins: list[str],
    rate: int,
    seconds: float,
    breaches: int,
    seed: int,
    out: Any,
) -> None:
    from propdesk.engine.ingest import deliver
    from propdesk.runtime import open_runtime
    from propdesk.settings import get_settings
    from propdesk.tenancy.service import get_tenant

    database_url, redis_url, queue_name = urls
    settings = get_settings().model_copy(update={"queue_name": queue_name, "engine": False})
    rng = random.Random(seed)
    seqs = dict.fromkeys(logins, 1)
    victims = rng.sample(logins, breaches)
    victim_at = sorted(rng.uniform(0.05 * seconds, 0.95 * seconds) for _ in victims)
    sent_at: dict[str, float] = {}
    ingested: list[float] = []
    sent = 0
    tick = 0.02  # a bridge sends what it has every 20 ms
    per_tick = max(1, round(rate * tick))
    async with open_runtime(settings, database_url=database_url, redis_url=redis_url) as runtime:
        tenant = await get_tenant(runtime, slug)
        assert tenant is not None
        began = time.monotonic()
        next_victim = 0
        while (elapsed := time.monotonic() - began) < seconds:
            now = datetime.now(UTC)
            items = []
            crash: list[str] = []
            while next_victim < len(victims) and victim_at[next_victim] <= elapsed:
                crash.append(victims[next_victim])
                next_victim += 1
            for index in range(per_tick):
                login = crash[index] if index < len(crash) else rng.choice(logins)
                equity = "94000" if index < len(crash) else str(100000 + rng.randint(-2000, 2000))
                seqs[login] += 1
                items.append(
                    {
                        "platform": PLATFORM,
                        "login": login,
                        "seq": seqs[login],
                        "type": "snapshot",
                        "time": utc(now),
                        "balance": "100000",
                        "equity": equity,
                    }
                )
            handed = time.time()
            for login in crash:
                sent_at[login] = handed
            async with runtime.db.unit_of_work(tenant) as session:
                await deliver(runtime, session, items)
            ingested.append((time.time() - handed) * 1000)
            sent += len(items)
            pause = began + (sent / rate) - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
        out.put(
            {
                "sent": sent,
                "seconds": time.monotonic() - began,
                "sent_at": sent_at,
                "ingest_ms": ingested,
            }
        )


# -- the run ----------------------------------------------------------------------------------
async def run(
    runtime: Any,
    urls: tuple[str, str],
    *,
    accounts: int = 100_000,
    rate: int = 5_000,
    seconds: float = 30.0,
    breaches: int = 150,
    seed: int = 7,
    progress: Callable[[str], None] = lambda _: None,
) -> LatencyResult:
    slug = f"bench_{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    progress(f"Preparing desk {slug} with {accounts:,} accounts…")
    pairs = await prepare_desk(runtime, slug, accounts)
    engine = Engine(runtime, EngineConfig(desks=frozenset({slug})))
    disabled = TimedPlatform.disabled_at
    disabled.clear()
    stop = asyncio.Event()
    try:
        desk = await engine.desk(slug)
        assert desk is not None
        progress("Loading every account into the engine…")
        await engine.load(desk, {account_id for account_id, _ in pairs})
        task = asyncio.create_task(engine.run(stop))
        # Its first sweep evaluates the accounts' opening, as a worker up for a while has.
        await engine.ready.wait()
        setup = time.monotonic() - began
        progress(f"Sending {rate:,} updates/s for {seconds:g} s ({breaches} of them breach)…")
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        generator = context.Process(
            target=_generate,
            args=(
                (*urls, runtime.settings.queue_name),
                slug,
                [login for _, login in pairs],
                rate,
                seconds,
                breaches,
                seed,
                out,
            ),
        )
        generator.start()
        report = await asyncio.to_thread(out.get)
        await asyncio.to_thread(generator.join)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(disabled) < len(report["sent_at"]):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        result = LatencyResult(accounts, rate, report["seconds"], report["sent"])
        result.breaches_sent = len(report["sent_at"])
        result.ingest_ms = report["ingest_ms"]
        result.setup_seconds = setup
        for login, handed in report["sent_at"].items():
            done = disabled.get(login)
            if done is not None:
                result.latencies_ms.append((done - handed) * 1000)
        stop.set()
        await task
        return result
    finally:
        stop.set()
        await engine.close()
        await drop_tenant(runtime.db, slug)
        await runtime.queue.purge()
