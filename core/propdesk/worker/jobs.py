"""How plugins (and the core) describe background jobs for ``propdesk worker``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

JobFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class JobDefinition:
    """An arq job. With ``cron`` set (arq ``cron`` keyword arguments, e.g. ``{"second": 0}``)
    the worker also runs it on that schedule, once across all workers.

    Arguments must be JSON values (the queue serialises jobs as JSON). Jobs run at least once.
    """

    name: str
    function: JobFunction
    cron: dict[str, Any] | None = None
    max_tries: int = 5
    timeout_seconds: int = 60
