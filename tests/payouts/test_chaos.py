"""``propdesk chaos payouts`` in CI: at least 200 payouts paid while a real worker process is
SIGKILLed at random moments and at its crash points; nothing paid twice, nothing lost, the
ledger balanced (the acceptance run of 1,000 is the same command with ``--runs 1000``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from propdesk.embedded import ServiceUrls
from propdesk.runtime import Runtime

pytestmark = pytest.mark.asyncio(loop_scope="session")
RUNS = int(os.environ.get("PROPDESK_CHAOS_RUNS", "200"))


@pytest.mark.slow
async def test_payouts_survive_a_killed_worker(
    propdesk_runtime: Runtime, propdesk_urls: ServiceUrls, propdesk_database_url: str
) -> None:
    env = {
        **os.environ,
        "PROPDESK_DATABASE_URL": propdesk_database_url,
        "PROPDESK_REDIS_URL": propdesk_urls.redis_url,
    }
    command = [sys.executable, "-m", "propdesk", "chaos", "payouts", "--runs", str(RUNS)]
    done = await asyncio.to_thread(
        subprocess.run, [*command, "--json"], env=env, capture_output=True, text=True, timeout=1500
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    assert report["runs"] == report["paid"] == RUNS
    assert report["kills"] >= 1 and report["crash_point_kills"] >= 1
    assert (report["double_payments"], report["double_withdrawals"]) == (0, 0)
    assert report["lost_payouts"] == 0 and report["ledger_balanced"] is True
    assert done.returncode == 0
