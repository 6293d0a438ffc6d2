"""``idempotent``: a route's work under the request's ``Idempotency-Key`` (see ``service``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.idempotency.service import (
    HEADER,
    REPLAYED_HEADER,
    Answer,
    check_key,
    fingerprint,
    run_once,
)


async def idempotent(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    scope: str,
    action: Callable[[], Awaitable[Any]],
    *,
    required: bool,
    status_code: int = 200,
) -> Response[Any]:
    """Run ``action`` (in ``session``, the request's unit of work) once per key of ``scope``.

    Without a key the action simply runs (unless ``required``: money-moving routes refuse a
    request without one). A repeat with the same key and body gets the first answer again with
    ``Idempotent-Replayed: true``; the same key with another body is 409.
    """
    key = check_key(request.headers.get(HEADER), required=required)
    if key is None:
        return Response(await action(), status_code=status_code)

    async def run() -> Answer:
        result = await action()
        return Answer(status_code, msgspec.json.encode(result), "application/json")

    body = await request.body()
    answer = await run_once(
        session,
        scope=scope,
        key=key,
        fingerprint=fingerprint(request.method, request.url.path, body),
        action=run,
    )
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else {}
    return Response(
        content=answer.body,
        status_code=answer.status_code,
        media_type=answer.media_type,
        headers=headers,
    )
