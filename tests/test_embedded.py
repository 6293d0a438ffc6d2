"""Embedded PostgreSQL and Redis: started in the data folder, shared between processes,
reused across runs, and stopped by the last process that used them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import psutil
import redis

from propdesk.embedded import running_services
from propdesk.settings import Settings
from propdesk.testing.services import service_dir

HOLDER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from propdesk.embedded import running_services
    from propdesk.settings import Settings

    settings = Settings(database_url=None, redis_url=None, data_dir=Path(sys.argv[1]))
    with running_services(settings) as urls:
        print(json.dumps([urls.database_url, urls.redis_url]), flush=True)
        sys.stdin.readline()
    """
)


def servers_under(folder: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(folder) in cmdline and ("redis-server" in cmdline or "postgres" in cmdline):
            found.append(process)
    return found


async def add_row(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
        await conn.execute("INSERT INTO kept VALUES (1)")
        return int(await conn.fetchval("SELECT count(*) FROM kept"))
    finally:
        await conn.close()


def test_services_are_shared_reused_and_stopped_by_the_last_user() -> None:
    with service_dir() as folder:
        check_lifecycle(folder / "data")


def hold(data: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """Another Propdesk process using the folder's services until told to leave."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def leave(process: subprocess.Popen[str]) -> None:
    process.communicate("\n", timeout=60)
    assert process.returncode == 0


def check_lifecycle(data: Path) -> None:
    settings = Settings(database_url=None, redis_url=None, data_dir=data)
    with running_services(settings) as mine:
        assert mine.embedded == ("postgresql", "redis")
        other, urls = hold(data)
        assert urls == [mine.database_url, mine.redis_url], "the second process joins"
        client = redis.Redis(unix_socket_path=mine.redis_url.removeprefix("unix://"))
        client.set("kept", "yes")
        client.close()
    assert asyncio.run(add_row(urls[0])) == 1, "still up while the other process uses them"
    leave(other)
    assert servers_under(data) == [], "the last process to leave stops both servers"

    again, urls = hold(data)  # the next run reuses the data
    try:
        assert asyncio.run(add_row(urls[0])) == 2
        client = redis.Redis(unix_socket_path=urls[1].removeprefix("unix://"))
        assert client.get("kept") == b"yes"
        client.close()
    finally:
        leave(again)
    assert servers_under(data) == []
