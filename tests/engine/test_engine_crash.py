"""A worker killed with SIGKILL in the middle of its batches loses no event and repeats no breach
action; the worker started after it catches up within 10 seconds."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from enginekit import (
    engine_runtime,
    minutes_ago,
    open_account,
    open_desk,
    send,
    snapshot,
    state,
    verdicts,
    wait_for,
)
from sqlalchemy import text

from propdesk.lifecycle.service import load_challenge
from propdesk.runtime import Runtime
from propdesk.tenancy.naming import quote_schema

__all__ = ["engine_runtime"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

ACCOUNTS = 10
EVENTS = 500
VICTIM = 3
BREACH_AT = 300
SCRIPT = Path(__file__).with_name("crash_worker.py")


async def _worker(
    runtime: Runtime, database_url: str, commands: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PROPDESK_DATABASE_URL": database_url,
        "PROPDESK_REDIS_URL": runtime.redis_url,
        "PROPDESK_QUEUE_NAME": runtime.settings.queue_name,
        "PROPDESK_LOG_FORMAT": "console",
        "PROPDESK_LOG_LEVEL": "WARNING",
        "PROPDESK_LOAD_ENTRYPOINTS": "false",
        "CRASH_COMMANDS": str(commands),
    }
    return await asyncio.create_subprocess_exec(sys.executable, str(SCRIPT), env=env)


async def _lease_holder(runtime: Runtime) -> bytes | None:
    from redis.asyncio import Redis

    redis = Redis.from_url(runtime.redis_url)
    try:
        value: bytes | None = await redis.get(f"{runtime.settings.queue_name}:engine-lease:0")
        return value
    finally:
        await redis.aclose()


async def test_a_killed_worker_loses_nothing_and_its_successor_catches_up(
    engine_runtime: Runtime, propdesk_database_url: str, tmp_path: Path
) -> None:
    runtime = engine_runtime
    commands = tmp_path / "commands.jsonl"
    commands.touch()
    tenant = await open_desk(runtime, server="crash")
    start = minutes_ago(40)
    logins = [f"80{i:02d}" for i in range(ACCOUNTS)]
    accounts = [
        await open_account(runtime, tenant, login=login, opened_at=start) for login in logins
    ]

    first = await _worker(runtime, propdesk_database_url, commands)
    second = None
    try:
        await wait_for(lambda: _lease_holder(runtime), what="the first worker's engine", timeout=30)
        step = timedelta(minutes=30) / EVENTS
        killed_at = None
        for seq in range(2, EVENTS + 1):
            items = []
            for index, login in enumerate(logins):
                equity = "94000" if index == VICTIM and seq >= BREACH_AT else str(99000 + seq)
                items.append(snapshot(login, seq, start + step * seq, equity))
            await send(runtime, tenant, items)
            if seq == EVENTS * 2 // 5:
                first.send_signal(signal.SIGKILL)  # in the middle of its batches
                await first.wait()
                killed_at = time.monotonic()
        assert killed_at is not None

        began = time.monotonic()
        second = await _worker(runtime, propdesk_database_url, commands)

        async def caught_up() -> bool:
            for account in accounts:
                if (await state(runtime, tenant, account.account_id))["evaluated_seq"] != EVENTS:
                    return False
            return True

        await wait_for(caught_up, what="the second worker to catch up", timeout=30)
        catch_up = time.monotonic() - began
        print(f"\ncatch-up after restart: {catch_up:.2f} s")
        assert catch_up <= 10, f"the restarted worker took {catch_up:.1f} s to catch up"

        victim = accounts[VICTIM]

        async def acted() -> bool:
            return any(
                json.loads(line)["command"] == "disable_trading"
                for line in commands.read_text().splitlines()
            )

        await wait_for(acted, what="the breach action")
        await asyncio.sleep(1)  # let any repeat show itself
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()

    schema = quote_schema(tenant.schema)
    async with runtime.db.session(tenant) as session:
        journalled = await session.scalar(text(f"SELECT count(*) FROM {schema}.account_events"))
        breached_events = await session.scalar(
            text(f"SELECT count(*) FROM {schema}.outbox WHERE name = 'challenge.breached'")
        )
        _row, challenge = await load_challenge(session, victim.challenge_id)
    assert journalled == ACCOUNTS * EVENTS  # nothing lost
    for account in accounts:
        row = await state(runtime, tenant, account.account_id)
        assert row["evaluated_seq"] == EVENTS
        assert row["status"] == ("failed" if account is victim else "active")
    [decision] = await verdicts(runtime, tenant, victim.account_id)
    assert decision["event"] == "breached"
    assert decision["decided_at"] == start + step * BREACH_AT
    assert [h.event for h in challenge.history].count("breached") == 1
    assert breached_events == 1
    actions = [json.loads(line) for line in commands.read_text().splitlines()]
    disabled = [a for a in actions if a["command"] == "disable_trading"]
    assert [a["login"] for a in disabled] == [logins[VICTIM]], actions
