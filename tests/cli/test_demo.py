"""``propdesk demo`` as a newcomer runs it (a process of its own, on a database of its own): a
bounded run sees the whole lifecycle, and Ctrl-C stops everything cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from propdesk.embedded import ServiceUrls
from propdesk.testing.services import create_database, drop_database, unique_name

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[2]
COUNTED = ("purchases", "breaches", "passes", "payouts")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def demo_env(
    propdesk_urls: ServiceUrls, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, str]]:
    """The demo's environment: a database and a queue of its own (its desks are the real ones
    from ``tenants/``, which other tests' databases also hold)."""
    name = unique_name("propdesk_demo")
    url = await create_database(propdesk_urls.database_url, name)
    yield {
        **os.environ,
        "PROPDESK_DATABASE_URL": url,
        "PROPDESK_REDIS_URL": propdesk_urls.redis_url,
        "PROPDESK_QUEUE_NAME": unique_name("propdesk_demo_queue"),
        "PROPDESK_DATA_DIR": str(tmp_path_factory.mktemp("demo")),
        "PROPDESK_TENANTS_DIR": str(ROOT / "tenants"),
    }
    await drop_database(propdesk_urls.database_url, name)


def demo(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "propdesk", "demo", "--port", str(free_port()), *args]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
async def test_a_bounded_run_sees_a_purchase_a_breach_a_pass_and_a_payout(
    demo_env: dict[str, str],
) -> None:
    process = demo(demo_env, "--duration", "120", "--until-complete", "--json")
    out, err = await asyncio.to_thread(process.communicate, timeout=240)
    assert process.returncode == 0, err[-3000:]
    (line,) = out.splitlines()  # --json: one line on stdout, the rest on stderr
    counts = json.loads(line)
    print(counts)
    assert list(counts)[:4] == list(COUNTED)
    assert all(counts[kind] >= 1 for kind in COUNTED), (counts, err[-3000:])
    assert counts["audit_intact"] is True and counts["tenants"] == 2
    assert "finance@aurora-fx.demo" in err and "/backoffice/" in err


@pytest.mark.slow
async def test_ctrl_c_stops_everything_cleanly(demo_env: dict[str, str]) -> None:
    process = demo(demo_env, "--json")
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    while "Press Ctrl-C to stop" not in (await asyncio.to_thread(process.stderr.readline)):
        assert process.poll() is None and time.monotonic() < deadline, "the demo did not start"
    await asyncio.sleep(3)  # traders at work
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert "Stopped. Audit trail intact." in err and "Traceback" not in err
    assert json.loads(out)["tenants"] == 2
