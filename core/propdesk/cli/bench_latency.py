"""``propdesk bench breach-latency``: end-to-end breach latency against PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import uuid

import click

from propdesk.cli.common import console
from propdesk.embedded import running_services
from propdesk.engine import bench_latency
from propdesk.settings import get_settings


@click.command(name="breach-latency")
@click.option("--accounts", default=100_000, show_default=True)
@click.option("--rate", default=5_000, show_default=True, help="Account updates per second.")
@click.option("--seconds", default=30.0, show_default=True, help="How long to send.")
@click.option("--breaches", default=150, show_default=True, help="Breaching updates among them.")
@click.option("--json", "as_json", is_flag=True, help="After the report, one line of JSON.")
def breach_latency(accounts: int, rate: int, seconds: float, breaches: int, as_json: bool) -> None:
    """From an event reaching ingestion to the breach committed and trading disabled."""
    from propdesk.logs import configure_logging
    from propdesk.runtime import open_runtime
    from propdesk.tenancy.provisioning import migrate_shared

    # A queue of its own: a worker running on this machine must not serve the benchmark's desk.
    settings = get_settings().model_copy(
        update={"queue_name": f"propdesk-bench-{uuid.uuid4().hex[:8]}"}
    )
    # Warnings and errors only: a line per breach acted on would bury the report.
    configure_logging("WARNING", settings.log_format)
    with running_services(settings) as urls:

        async def main() -> bench_latency.LatencyResult:
            async with open_runtime(
                settings,
                database_url=urls.database_url,
                redis_url=urls.redis_url,
                extra_plugins=[(bench_latency.PLATFORM, bench_latency.TimedPlatform.plugin())],
                require_migrated=False,
            ) as runtime:
                await migrate_shared(runtime.db, runtime.host)
                return await bench_latency.run(
                    runtime,
                    (urls.database_url, urls.redis_url),
                    accounts=accounts,
                    rate=rate,
                    seconds=seconds,
                    breaches=breaches,
                    progress=lambda line: console.print(line),
                )

        result = asyncio.run(main())
    p50, p95, p99 = (result.percentile(q) for q in (0.5, 0.95, 0.99))
    worst = max(result.latencies_ms, default=float("nan"))
    verdicts = ", ".join(
        f"{name} {'meets' if value <= target else 'misses'} ≤ {target:g} ms"
        for name, value, target in (
            ("p50", p50, bench_latency.TARGET_P50_MS),
            ("p99", p99, bench_latency.TARGET_P99_MS),
        )
    )
    console.print(
        f"{result.sent:,} updates over {result.accounts:,} accounts in {result.seconds:.1f} s "
        f"({result.achieved_rate:,.0f}/s; setup {result.setup_seconds:.1f} s); "
        f"{len(result.latencies_ms)} of {result.breaches_sent} breaches acted on.\n"
        f"ingestion (a delivery journalled and announced): p50 "
        f"{result.percentile(0.5, result.ingest_ms):.1f} ms, p99 "
        f"{result.percentile(0.99, result.ingest_ms):.1f} ms\n"
        f"breach latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms "
        f"([bold]{verdicts}[/])"
    )
    if as_json:
        click.echo(json.dumps(result.line()))
