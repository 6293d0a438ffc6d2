"""Running a request once per ``Idempotency-Key``, in the request's own unit of work.

The key's row is inserted in the same transaction as the work it guards, so the two commit
or roll back together: a request that failed left nothing (its key included) and may be sent
again; one that succeeded is answered again, byte for byte, from the stored answer. A second
request with the same key waits on the first's row lock and then replays its answer. Keys are
kept ``KEEP`` (more than the 72 hours promised), then pruned by a job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.errors import Conflict, FieldProblem, InvalidInput
from propdesk.idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP = timedelta(hours=96)
MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes
    media_type: str
    #: True when this is the stored answer of an earlier request with the key.
    replayed: bool = False


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def check_key(key: str | None, *, required: bool) -> str | None:
    if key is None or key == "":
        if required:
            raise InvalidInput(
                f"this request moves money: send an {HEADER} header",
                problems=[FieldProblem(HEADER, "required: a unique string per operation")],
            )
        return None
    if len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput(
            f"bad {HEADER}",
            problems=[FieldProblem(HEADER, f"1 to {MAX_KEY} printable characters")],
        )
    return key


async def run_once(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    action: Callable[[], Awaitable[Answer]],
) -> Answer:
    """The answer of ``action`` run in ``session``'s transaction, or the stored one.

    :raises Conflict: the key was used by this caller for another request.
    """
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            status_code=0,
            body=b"",
            media_type="",
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotencyKey.key)
    )
    if claimed is None:
        stored = await session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )
        assert stored is not None  # the conflicting row committed before we could read it
        if stored.fingerprint != fingerprint:
            raise Conflict(
                f"{HEADER} {key!r} was used for another request; use a new key for a new operation"
            )
        return Answer(stored.status_code, stored.body, stored.media_type, replayed=True)
    answer = await action()
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(status_code=answer.status_code, body=answer.body, media_type=answer.media_type)
    )
    return answer


async def prune(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Forget keys older than ``KEEP``; how many."""
    cutoff = (now or datetime.now(UTC)) - KEEP
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
