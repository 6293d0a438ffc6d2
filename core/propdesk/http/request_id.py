"""Request ids and the access log: the outermost layer, so even a 404 carries an id.

An incoming ``X-Request-ID`` is kept when it is a sane token (at most 128 characters of
``[A-Za-z0-9._-]``), otherwise a fresh uuid4 hex is used. The id is echoed in the response,
bound to ``propdesk.logs.request_id_var`` and structlog's contextvars, and every request ends
with one structured access line.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog

from propdesk.logs import request_id_var

REQUEST_ID_HEADER = "x-request-id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")

access_log = structlog.get_logger("propdesk.http.access")


def choose_request_id(incoming: str | None) -> str:
    """Keep a client's id when it is safe to log and echo; otherwise make one."""
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestIdMiddleware:
    """Pure ASGI middleware wrapping the whole Litestar handler (router and exception layer)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = choose_request_id(_header(scope, REQUEST_ID_HEADER.encode()))
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        token = request_id_var.set(request_id)
        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    tenant = scope.get("state", {}).get("tenant")
                    access_log.info(
                        "request",
                        method=scope.get("method"),
                        path=scope.get("path"),
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                        tenant=getattr(tenant, "slug", None),
                        request_id=request_id,
                    )
        finally:
            request_id_var.reset(token)
