"""Small helpers with no better home."""

from __future__ import annotations

import inspect
from typing import Any


async def await_me_maybe(value: Any) -> Any:
    """Await ``value`` if it is awaitable; hooks may be sync or ``async def``."""
    if inspect.isawaitable(value):
        return await value
    return value
