"""What the back office's pages share: who acts, a refused form post shown on its page, paging."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.errors import Conflict, FieldProblem, InvalidInput, ProviderError, Unauthenticated
from propdesk.web.pages import principal_of

T = TypeVar("T")
PAGE_SIZE = 25


@dataclass(frozen=True)
class Refusal:
    """Why a form post changed nothing: the service's words, and each field's problem."""

    detail: str
    problems: list[FieldProblem] = field(default_factory=list)
    status: int = 422

    def at(self, name: str) -> str:
        """The problem of field ``name`` (for the message next to it), or ""."""
        return "; ".join(p.message for p in self.problems if p.field == name)


async def attempt(session: AsyncSession, work: Awaitable[T]) -> T | Refusal:
    """Await a service call of a form post. Bad input, a conflict or a provider's refusal undoes
    everything the call wrote (nothing is half-written) and comes back as a ``Refusal`` for the
    page."""
    # A savepoint: what the page read before stays loaded; only the attempt is undone.
    callbacks = session.info.setdefault("after_commit", [])
    before = len(callbacks)
    try:
        async with session.begin_nested():
            return await work
    except (InvalidInput, Conflict, ProviderError) as exc:
        del callbacks[before:]  # nothing was done, so nothing is announced
        return Refusal(exc.detail, list(exc.problems), exc.status)


def actor_of(request: Request[Any, Any, Any]) -> str:
    """How the audit trail names the signed-in staff member."""
    principal = principal_of(request)
    if principal is None:  # the route's permission already refused the anonymous
        raise Unauthenticated("sign in first")
    return principal.actor


def done(url: str, message: str) -> str:
    """``url`` that says ``message`` once (the layout's flash)."""
    return f"{url}{'&' if '?' in url else '?'}done={quote(message)}"


def page_number(text: str | None) -> int:
    """A ``page`` query parameter: 1 unless it is a whole number from 1."""
    ok = text and len(text) <= 6 and text.isascii() and text.isdigit() and int(text) >= 1
    return int(text) if ok and text else 1


def query_string(**params: Any) -> str:
    """``?a=1&b=2`` of the parameters that have a value."""
    given = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(given) if given else ""
