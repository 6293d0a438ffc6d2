"""``propdesk chaos payouts``: pay payouts while the worker is killed, then count the damage.

A desk on the MT5 and Stripe simulators (real wire protocols, in this process) pays funded
accounts' payouts through a real ``propdesk worker`` process, in waves of one payout per
account. During each wave the harness approves payouts as finance would, and SIGKILLs the worker
at random moments (at least once per wave); the worker also kills itself at random at the crash
points of ``faults`` (the rail paid, the commit not made). A killed worker is restarted at
once. A wave ends when every payout of it is paid, or at its deadline.

Then it counts, from the simulators' own books and the desk's ledger:

- **double payments**: a payout that received more than one Stripe transfer, and **double
  withdrawals**: a payout whose profit left the MT5 account more than once;
- **lost payouts**: a payout not paid by its wave's deadline, paid at Stripe but not in the
  desk's books, or the other way round;
- **ledger balanced**: every transaction balances, nothing is left payable, and the cash the
  ledger says left equals what Stripe transferred.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from propdesk.catalogue.service import publish_files
from propdesk.ledger import service as ledger
from propdesk.payouts import service
from propdesk.payouts.case import funded_account, live_case
from propdesk.payouts.faults import ENV as CRASH_ENV
from propdesk.payouts.models import PayoutRow
from propdesk.runtime import Runtime, open_runtime
from propdesk.settings import Settings
from propdesk.simulators import SimulatorSetup
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.manifest import TenantManifest
from propdesk.tenancy.service import apply_manifests, get_tenant, set_status
from propdesk.testing.payouts import funded_product, open_funded

GROUP = "real\\chaos\\funded"
FINANCE = "user:chaos-finance"
#: A wave that is not paid this long after its last kill has lost payouts.
WAVE_DEADLINE_SECONDS = 90.0
#: A crash point in a console log line (JSON lines are parsed).
_CRASH = re.compile(r"chaos\.crash.*?point=(\w+)")


@dataclass
class ChaosReport:
    runs: int = 0
    kills: int = 0
    crash_point_kills: int = 0
    double_payments: int = 0
    double_withdrawals: int = 0
    lost_payouts: int = 0
    ledger_balanced: bool = False
    paid: int = 0
    seconds: float = 0.0
    #: Where the payouts of a wave stood when the harness killed the worker.
    killed_at: dict[str, int] = field(default_factory=dict)
    crash_points: dict[str, int] = field(default_factory=dict)
    #: Longest time from a wave's last kill to its last payout paid.
    max_recovery_seconds: float = 0.0

    def line(self) -> dict[str, Any]:
        return asdict(self)


def _simulators(runtime: Runtime) -> tuple[Any, Any]:
    """The MT5 and Stripe simulators their plugins register, for one desk (not started)."""
    registry = runtime.host.simulators()
    if "mt5" not in registry or "stripe" not in registry:  # the plugins are their own packages
        raise RuntimeError(
            "chaos payouts runs on the MT5 and Stripe simulators: pip install -e plugins/mt5 "
            "-e plugins/psp_stripe"
        )
    setup = SimulatorSetup(desk="chaos", env_prefix="CHAOS_", groups=(GROUP,))
    return registry.get("mt5")(setup), registry.get("stripe")(setup)


class Worker:
    """``propdesk worker`` as a child process, killed and restarted at will."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "propdesk", "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


async def _desk(runtime: Runtime, mt5: Any, stripe: Any) -> TenantContext:
    slug = f"chaos_{uuid.uuid4().hex[:10]}"
    plugins = {
        mt5.plugin: mt5.desk_settings().settings,
        stripe.plugin: stripe.desk_settings().settings,
        "propdesk.payouts": {"rails": [stripe.rail]},
        "propdesk.engine": {"poll_seconds": 0},
    }
    await apply_manifests(runtime, [TenantManifest.from_values(slug, plugins=plugins)])
    tenant = await get_tenant(runtime, slug)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product.json"
        path.write_text(json.dumps(funded_product(platform=mt5.platform, group=GROUP)))
        await publish_files(runtime, tenant, [path], actor="chaos")
    return tenant


async def _profit(mt5: Any, login: str) -> None:
    """A trade on the simulator that closes about 2,000 in profit."""
    control = mt5.running.control
    bid = Decimal((await control.prices())["EURUSD"]["bid"])
    opened = await control.open_order(int(login), "EURUSD", "buy", "1.00")
    await control.set_prices({"EURUSD": str(bid + Decimal("0.0200"))})
    await control.close_position(int(login), opened["position"])


async def _request(
    runtime: Runtime, tenant: TenantContext, challenge_id: int, destination: dict[str, Any]
) -> int:
    async with runtime.db.unit_of_work(tenant) as session:
        funded = await funded_account(session, tenant.schema, challenge_id)
        case = await live_case(runtime, tenant, session, funded)
        payout = await service.request_payout(
            session,
            runtime.queue,
            funded,
            case,
            rail="stripe",
            destination=destination,
            second_approval_above=None,
            actor="trader:chaos",
        )
        return int(payout.id)


async def _statuses(runtime: Runtime, tenant: TenantContext, ids: list[int]) -> dict[int, str]:
    async with runtime.db.session(tenant) as session:
        rows = await session.execute(
            select(PayoutRow.id, PayoutRow.status).where(PayoutRow.id.in_(ids))
        )
        return {int(i): str(s) for i, s in rows}


async def _approve_reviewed(runtime: Runtime, tenant: TenantContext, ids: list[int]) -> None:
    """Finance approves what is under review (the same call the back office makes)."""
    for payout_id, status in (await _statuses(runtime, tenant, ids)).items():
        if status != "pending_review":
            continue
        async with runtime.db.unit_of_work(tenant) as session:
            payout = await session.get(PayoutRow, payout_id)
            assert payout is not None
            funded = await funded_account(
                session, tenant.schema, payout.challenge_id, trading=False
            )
            await service.approve(
                session,
                runtime.queue,
                payout_id,
                funded,
                approver=FINANCE,
                kyc_status="approved",
                now=datetime.now(UTC),
            )


async def _wave(
    runtime: Runtime,
    tenant: TenantContext,
    worker: Worker,
    ids: list[int],
    rng: random.Random,
    report: ChaosReport,
) -> bool:
    """Pay the wave's payouts under kills; False when its deadline passed first."""
    kills_due = rng.randint(1, 3)
    last_kill = time.monotonic()
    while True:
        if not worker.alive:
            worker.start()
        statuses = await _statuses(runtime, tenant, ids)
        if all(s == "paid" for s in statuses.values()):
            report.max_recovery_seconds = max(
                report.max_recovery_seconds, time.monotonic() - last_kill
            )
            return True
        if time.monotonic() - last_kill > WAVE_DEADLINE_SECONDS:
            return False
        await _approve_reviewed(runtime, tenant, ids)
        if kills_due:
            await asyncio.sleep(rng.uniform(0.2, 3.5))
            if worker.alive:
                for status in (await _statuses(runtime, tenant, ids)).values():
                    report.killed_at[status] = report.killed_at.get(status, 0) + 1
                worker.kill()
                report.kills += 1
                kills_due -= 1
                last_kill = time.monotonic()
        else:
            await asyncio.sleep(0.1)


async def run(
    settings: Settings,
    *,
    database_url: str,
    redis_url: str,
    runs: int,
    seed: int,
    accounts: int,
    crash_rate: float,
    keep_log: Path | None = None,
) -> ChaosReport:
    """Run ``runs`` payouts under fault injection (see the module docstring)."""
    rng, report, started = random.Random(seed), ChaosReport(runs=runs), time.monotonic()
    queue = f"propdesk:chaos:{uuid.uuid4().hex[:8]}"
    chaos = settings.model_copy(update={"queue_name": queue, "payout_sweep_seconds": 1})
    async with open_runtime(chaos, database_url=database_url, redis_url=redis_url) as runtime:
        mt5, stripe = _simulators(runtime)
        with mt5, stripe, tempfile.TemporaryDirectory() as folder:
            secrets = {**mt5.desk_settings().env, **stripe.desk_settings().env}
            os.environ.update(secrets)
            tenant = await _desk(runtime, mt5, stripe)
            destination = await stripe.payout_destination("chaos@traders.example")
            env = {
                **os.environ,
                **secrets,
                "PROPDESK_DATABASE_URL": database_url,
                "PROPDESK_REDIS_URL": redis_url,
                "PROPDESK_QUEUE_NAME": queue,
                "PROPDESK_PAYOUT_SWEEP_SECONDS": "1",
                "PROPDESK_ENGINE": "false",
                "PROPDESK_LOG_LEVEL": "WARNING",
                CRASH_ENV: str(crash_rate),
            }
            log = Path(folder) / "worker.log"
            worker = Worker(env, log)
            try:
                funded = [
                    await open_funded(
                        runtime,
                        tenant,
                        trader_email=f"chaos{n}@traders.example",
                        trader_name=f"Chaos Trader {n}",
                    )
                    for n in range(min(accounts, runs))
                ]
                all_ids: list[int] = []
                for start in range(0, runs, len(funded)):
                    lanes = funded[: min(len(funded), runs - start)]
                    ids = []
                    for challenge_id, account in lanes:
                        await _profit(mt5, account.split(":")[1])
                        ids.append(await _request(runtime, tenant, challenge_id, destination))
                    all_ids += ids
                    if not await _wave(runtime, tenant, worker, ids, rng, report):
                        break  # its payouts are lost: the next wave could not even ask
            finally:
                worker.stop()
                # A run that broke off must not leave its desk served by later workers.
                await set_status(runtime, tenant.slug, "suspended", "chaos", "the run ended")
                if keep_log is not None and log.exists():
                    await asyncio.to_thread(shutil.copyfile, log, keep_log)
            report.crash_points = _crash_points(log.read_text(errors="replace"))
            report.crash_point_kills = sum(report.crash_points.values())
            await _count(runtime, tenant, mt5, stripe, all_ids, report)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _crash_points(text: str) -> dict[str, int]:
    """Where the worker killed itself, from its log."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            found.update(_CRASH.findall(line))
            continue
        if isinstance(entry, dict) and entry.get("event") == "chaos.crash":
            found[str(entry.get("point"))] += 1
    return dict(found)


async def _count(
    runtime: Runtime,
    tenant: TenantContext,
    mt5: Any,
    stripe: Any,
    ids: list[int],
    report: ChaosReport,
) -> None:
    transfers = await stripe.running.control.transfer_summary("payout_reference")
    simulator = mt5.running.simulator
    with simulator.lock:
        comments = [deal.comment for deal in simulator.book.deals]
    async with runtime.db.session(tenant) as session:
        rows = {
            int(p.id): p
            for p in await session.scalars(select(PayoutRow).where(PayoutRow.id.in_(ids)))
        }
        totals = await ledger.totals(session)
        balances = {b.account: b.natural for b in await ledger.balances(session)}
    transferred = Decimal(0)
    for payout_id, payout in rows.items():
        made = transfers.get(f"payout:{payout_id}", {"count": 0, "amounts": {}})
        withdrawals = sum(1 for c in comments if f"pd:po{payout_id}w" in c)
        report.double_payments += made["count"] > 1
        report.double_withdrawals += withdrawals > 1
        paid = payout.status == "paid"
        report.paid += paid
        report.lost_payouts += (not paid) or made["count"] != 1
        transferred += Decimal(sum(made["amounts"].values())) / 100
    report.lost_payouts += report.runs - len(rows)  # never requested: an earlier wave stalled
    paid_total = sum((p.amount for p in rows.values() if p.status == "paid"), Decimal(0))
    report.ledger_balanced = (
        all(v == 0 for v in totals.values())
        and balances.get("payouts_payable", Decimal(0)) == 0
        and -balances.get("cash_at_psp", Decimal(0)) == paid_total == transferred
    )
