"""Forms that change something: a refusal is shown next to the fields with nothing written,
and each rendered form carries its own Idempotency-Key, so a double submit acts once.

The key is the same mechanism as the API's ``Idempotency-Key`` header (``propdesk.idempotency``):
stored in the request's transaction with the answer, replayed to a repeat of the same form.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.errors import FieldProblem, PropdeskError, Unauthenticated
from propdesk.idempotency.service import Answer, check_key, fingerprint, run_once

T = TypeVar("T")
#: The hidden field of a form's key.
KEY_FIELD = "idempotency_key"


def form_key() -> str:
    """A fresh key for a form about to be shown."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Refused:
    """Why a form was refused (empty: it was not); ``refused["email"]`` is that field's problem."""

    detail: str = ""
    problems: tuple[FieldProblem, ...] = ()
    #: The HTTP status of the refusal, for the page that shows it (200: not refused).
    status: int = 200

    @classmethod
    def of(cls, error: PropdeskError) -> Refused:
        return cls(error.detail, tuple(error.problems), error.status)

    def __bool__(self) -> bool:
        return bool(self.detail)

    def __getitem__(self, field: str) -> str:
        return "; ".join(p.message for p in self.problems if p.field == field)


NOT_REFUSED = Refused()


async def attempt(
    session: AsyncSession, action: Callable[[], Awaitable[T]]
) -> tuple[T | None, Refused | None]:
    """``action``'s result, or why it was refused; a refused action is rolled back whole (a
    savepoint), so the page can show the form again with nothing half-written."""
    try:
        async with session.begin_nested():
            return await action(), None
    except PropdeskError as exc:
        if isinstance(exc, Unauthenticated) or exc.status >= 500:
            raise
        return None, Refused.of(exc)


async def once(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    scope: str,
    form: Mapping[str, str],
    action: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """``action``'s answer, run once per form key of ``scope`` (a repeat gets the first answer).

    :raises InvalidInput: the form has no key. :raises Conflict: its key came with another form.
    """
    key = check_key(form.get(KEY_FIELD), required=True)
    assert key is not None
    body = urlencode(sorted(form.items())).encode()

    async def run() -> Answer:
        return Answer(200, json.dumps(await action()).encode(), "application/json")

    answer = await run_once(
        session,
        scope=scope,
        key=key,
        fingerprint=fingerprint("POST", request.url.path, body),
        action=run,
    )
    result: dict[str, Any] = json.loads(answer.body)
    return result
