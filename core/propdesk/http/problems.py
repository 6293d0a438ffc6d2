"""RFC 9457 problem details: every failure the API returns is ``application/problem+json``.

``{"type", "title", "status", "detail", "instance", "request_id", "errors": [{"field",
"message"}]}``; ``errors`` only when there are field problems. Server errors are logged with
their traceback and answered with a generic detail, so no internals leak.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from propdesk.errors import FieldProblem, PropdeskError
from propdesk.logs import request_id_var

log = logging.getLogger("propdesk.http")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://propdesk.dev/problems/"
GENERIC_DETAIL = "Something went wrong on our side. Quote the request id when you report it."

#: Problem type slugs of the HTTP errors Litestar raises itself.
_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
    503: "service-unavailable",
}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    errors: Sequence[FieldProblem] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON object of one problem (``extra`` adds RFC 9457 extension members)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id_var.get(),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if extra:
        body.update(extra)
    return body


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    slug: str,
    title: str | None = None,
    detail: str,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    """A problem-details response for ``request``."""
    body = problem_body(
        status=status,
        slug=slug,
        title=title or _title(status),
        detail=detail,
        instance=request.url.path,
        errors=errors,
        extra=extra,
    )
    return Response(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


def _server_error(request: Request[Any, Any, Any], exc: BaseException) -> Response[Any]:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, status=500, slug="internal-error", title="Internal error", detail=GENERIC_DETAIL
    )


def handle_propdesk_error(request: Request[Any, Any, Any], exc: PropdeskError) -> Response[Any]:
    """A ``PropdeskError`` becomes its own status, title, type and field problems.

    A plain 500 (an internal or configuration error) is a bug: generic detail, logged.
    """
    if exc.status == 500:
        return _server_error(request, exc)
    extra = getattr(exc, "problem_extra", None)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        errors=exc.problems,
        extra=extra if isinstance(extra, Mapping) else None,
    )


def validation_problems(extra: Any) -> list[FieldProblem]:
    """Litestar's validation ``extra`` (``[{"key", "message", "source"}]``) as field problems."""
    if isinstance(extra, Mapping):
        extra = [extra]
    if not isinstance(extra, list):
        return []
    problems = []
    for item in extra:
        if not isinstance(item, Mapping):
            continue
        field = str(item.get("key") or item.get("source") or "")
        problems.append(FieldProblem(field, str(item.get("message", "is not valid"))))
    return problems


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors (validation, 401/403/404/405, ...) as problems."""
    status = exc.status_code
    if status >= 500:
        return _server_error(request, exc)
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        problems = validation_problems(exc.extra)
        named = ", ".join(p.field for p in problems if p.field)
        detail = f"The request is not valid: check {named}." if named else exc.detail
        return problem_response(
            request,
            status=status,
            slug="invalid-request",
            title="Invalid request",
            detail=detail,
            errors=problems,
            headers=headers,
        )
    detail = exc.detail
    if status == 404:
        detail = f"There is nothing at {request.url.path}."
    elif status == 405:
        allowed = headers.get("allow") or headers.get("Allow") or ""
        detail = f"{request.method} is not allowed on {request.url.path}" + (
            f"; use {allowed}." if allowed else "."
        )
    return problem_response(
        request,
        status=status,
        slug=_HTTP_SLUGS.get(status, "http-error"),
        detail=detail or _title(status),
        headers=headers,
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything else: 500 with a generic detail; the traceback goes to the log only."""
    return _server_error(request, exc)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    PropdeskError: handle_propdesk_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
