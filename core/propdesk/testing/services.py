"""Finding or starting PostgreSQL and Redis for a test session."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from propdesk.embedded import ServiceUrls, running_services
from propdesk.settings import Settings


def reachable(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


async def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url``; return its asyncpg URL."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.contextmanager
def test_services(data_dir: Path) -> Iterator[ServiceUrls]:
    """Server URLs (to a maintenance database) for PostgreSQL and Redis."""
    database_url = os.environ.get("PROPDESK_TEST_DATABASE_URL")
    redis_url = os.environ.get("PROPDESK_TEST_REDIS_URL")
    if database_url is None and reachable("127.0.0.1", 5432):
        database_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    if redis_url is None and reachable("127.0.0.1", 6379):
        redis_url = "redis://127.0.0.1:6379/0"
    settings = Settings(database_url=database_url, redis_url=redis_url, data_dir=data_dir)
    with running_services(settings) as urls:
        yield ServiceUrls(
            urls.database_url.replace("postgresql+asyncpg://", "postgresql://"),
            urls.redis_url,
            urls.embedded,
        )


@contextlib.contextmanager
def service_dir(prefix: str = "propdesk-test-") -> Iterator[Path]:
    """A temporary folder for embedded services, readable by the ``pgserver`` user that the
    embedded PostgreSQL runs as when tests run as root (pytest's own tmp folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
