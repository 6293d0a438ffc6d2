"""The queue handle: JSON jobs, results that hold exceptions, both kinds of Redis URL."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from arq.jobs import SerializationError, deserialize_result, serialize_result
from arq.worker import JobExecutionFailed, Worker, func

from propdesk.embedded import running_services
from propdesk.settings import Settings
from propdesk.testing.services import unique_name
from propdesk.worker.dispatch import RETRY_CAP_SECONDS, retry_delay
from propdesk.worker.queue import JobQueue, dumps, loads, redis_settings
from propdesk.worker.settings import every

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


def test_redis_urls_of_both_kinds() -> None:
    tcp = redis_settings("redis://127.0.0.1:6380/2")
    assert (tcp.host, tcp.port, tcp.database, tcp.unix_socket_path) == ("127.0.0.1", 6380, 2, None)
    unix = redis_settings("unix:///srv/propdesk/.propdesk/redis.sock")
    assert unix.unix_socket_path == "/srv/propdesk/.propdesk/redis.sock"
    assert unix.database == 0


def test_jobs_are_json_and_refuse_anything_else() -> None:
    record = {"t": None, "f": "dispatch_event", "a": ["acme", "e-1"], "k": {}, "et": 1}
    assert json.loads(dumps(record)) == record
    assert loads(dumps(record)) == record
    with pytest.raises(TypeError):
        dumps({**record, "a": ["acme", Decimal("1.00")]})


def test_results_holding_exceptions_serialise() -> None:
    """arq stores the exception of a failed job (or of 'max retries exceeded') as its result."""
    raw = serialize_result(
        "dispatch_event",
        ("acme", "e-1"),
        {},
        6,
        1,
        False,
        JobExecutionFailed("max 5 retries exceeded"),
        2,
        3,
        "ref",
        "q",
        "job-1",
        serializer=dumps,
    )
    assert raw is not None
    result = deserialize_result(raw, deserializer=loads)
    assert result.success is False
    assert result.result == {"error": "JobExecutionFailed", "message": "max 5 retries exceeded"}


def test_retry_delay_grows_and_is_capped() -> None:
    assert [retry_delay(n, base=5) for n in (1, 2, 3)] == [5, 10, 20]
    assert retry_delay(30) == RETRY_CAP_SECONDS


def test_sweep_schedule() -> None:
    assert every(5) == {"second": set(range(0, 60, 5))}
    assert every(120) == {"minute": set(range(0, 60, 2)), "second": 0}


async def test_queue_and_worker_over_the_embedded_redis_unix_socket(tmp_path: Path) -> None:
    ran: list[Any] = []

    async def ping(ctx: dict[str, Any], note: str) -> str:
        ran.append(note)
        return note

    settings = Settings(database_url="postgresql://unused", redis_url=None, data_dir=tmp_path)
    with running_services(settings) as urls:
        assert urls.redis_url.startswith("unix://")
        queue = JobQueue(urls.redis_url, unique_name("propdesk_test_queue"))
        try:
            assert await queue.enqueue("ping", "over the socket", job_id="ping-1")
            assert not await queue.enqueue("ping", "again", job_id="ping-1")
            with pytest.raises(SerializationError):
                await queue.enqueue("ping", Decimal("1.00"))
            worker = Worker(
                [func(ping, name="ping")],
                queue_name=queue.queue_name,
                redis_settings=redis_settings(urls.redis_url),
                burst=True,
                handle_signals=False,
                poll_delay=0.01,
                job_serializer=dumps,
                job_deserializer=loads,
            )
            await asyncio.wait_for(worker.async_run(), 20)
            await worker.close()
        finally:
            await queue.close()
    assert ran == ["over the socket"]
