"""The client's errors: a Sumsub error answer (``{"description","code","correlationId"
[,"errorCode","errorName"]}``) becomes a typed exception that keeps every field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class SumsubError(Exception):
    """Sumsub refused a call, or could not be reached (``status`` 0)."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        code: int | None = None,
        correlation_id: str | None = None,
        error_code: int | None = None,
        error_name: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.description = description
        self.code = code if code is not None else status
        self.correlation_id = correlation_id
        self.error_code = error_code
        self.error_name = error_name
        #: Seconds the server asked us to wait (``Retry-After``), when it said.
        self.retry_after = retry_after
        detail = f" [{error_code} {error_name}]" if error_code is not None else ""
        ref = f" (correlationId {correlation_id})" if correlation_id else ""
        super().__init__(f"{status} {description}{detail}{ref}".strip())


class AuthenticationFailed(SumsubError):
    """401: unknown app token, bad signature, or a timestamp more than a minute off."""


class NotFound(SumsubError):
    """404: no such applicant (or level)."""


class Conflict(SumsubError):
    """409: a duplicate ``externalUserId``, incomplete data for a check, a final rejection, or
    an applicant busy with another change (then ``retry_after`` may say when to try again)."""


class RateLimited(SumsubError):
    """429: over Sumsub's per-5-seconds limits."""


class Unavailable(SumsubError):
    """5xx, an unreadable answer, or no answer at all: the same call may work later."""


class Rejected(SumsubError):
    """Any other 4xx: the same call gets the same answer."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # The HTTP-date form.
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def error_for(response: httpx.Response) -> SumsubError:
    """The exception for a non-2xx answer."""
    status = response.status_code
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"description": response.text[:200] or response.reason_phrase}
    fields: dict[str, Any] = {
        "code": _int(body.get("code")),
        "correlation_id": body.get("correlationId"),
        "error_code": _int(body.get("errorCode")),
        "error_name": body.get("errorName"),
        "retry_after": _retry_after(response.headers.get("retry-after")),
    }
    description = str(body.get("description") or response.reason_phrase)
    kind: type[SumsubError]
    if status == 401:
        kind = AuthenticationFailed
    elif status == 404:
        kind = NotFound
    elif status == 409:
        kind = Conflict
    elif status == 429:
        kind = RateLimited
    elif status >= 500:
        kind = Unavailable
    else:
        kind = Rejected
    return kind(status, description, **fields)
