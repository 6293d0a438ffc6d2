"""Ingestion: platform events into an account's journal, deduplicated, then a nudge to the engine.

Every source (a platform adapter's poller, a bridge service over HTTP) hands over events with
the account, the source's sequence number and an event key. The journal keeps one row per
``(account, seq)`` and one per ``(account, event key)``:

- the same event again (same key, same seq, same body) is a **duplicate**: counted, ignored;
- a different event under a used seq, or a used key under another seq or body, is a
  **conflict**: the whole delivery is refused and nothing is written;
- a seq below what the engine already evaluated is **late**: journalled for the record, and the
  engine raises a data-quality alert instead of rewriting history.

Rows commit before the call returns (bridges get their 2xx only then); the engine is nudged
after commit through a Redis stream. Redis is only the nudge: the engine's sweep finds
journalled events it was never told about.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.db.engine import after_commit
from propdesk.engine.store import sql
from propdesk.engine.stream import EngineStream
from propdesk.errors import Conflict, FieldProblem, InvalidInput
from propdesk.outbox.service import session_tenant
from propdesk.rules.events import Event, EventError, canonical, canonical_json, parse_event
from propdesk.tenancy.naming import schema_for

if TYPE_CHECKING:
    from propdesk.runtime import Runtime

#: Longest event key a source may send (platform deal tickets, bridge message ids).
MAX_KEY = 120
#: Events in one delivery (a bridge batches; a bigger batch is split by the sender).
MAX_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Ingested:
    """One event ready for the journal: ``body`` is its canonical JSON."""

    account_id: int
    seq: int
    key: str
    type: str
    time: datetime
    body: str


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    #: Events whose seq the engine had already passed (journalled, flagged by the engine).
    late: int = 0
    #: ``(account_id, seq, body)`` of the newly journalled events, for the engine's nudge.
    fresh: list[tuple[int, int, str]] = field(default_factory=list)


def event_key(event: Event, body: str) -> str:
    """The key of an event a source did not name: a deal by its ticket, others by content."""
    if event.type == "deal":
        return f"deal:{event.id}"  # type: ignore[union-attr]
    return f"{event.type}:{hashlib.sha256(body.encode()).hexdigest()[:40]}"


def prepare(
    account_id: int, seq: object, event: Event | Mapping[str, Any], *, key: object = None
) -> Ingested:
    """Check one event and put it in canonical form. ``EventError``/``ValueError`` say why."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"seq must be a whole number from 1, not {seq!r}")
    parsed = parse_event(event) if isinstance(event, Mapping) else event
    if parsed.type not in ("account_opened", "deal", "snapshot", "balance"):
        raise EventError(f"{parsed.type} events come from the engine, not from a platform")
    body = canonical_json(canonical(parsed))
    if key is None:
        key = event_key(parsed, body)
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise ValueError(f"event_id must be a non-empty string of at most {MAX_KEY} characters")
    return Ingested(account_id, seq, key, parsed.type, parsed.time, body)


def _schema(session: AsyncSession) -> str:
    return schema_for(session_tenant(session))


async def append(session: AsyncSession, events: Sequence[Ingested]) -> IngestResult:
    """Journal ``events`` in the session's transaction (the caller commits).

    Raises ``Conflict`` (nothing may be kept: roll back) when an event contradicts the journal
    or another event of the same delivery.
    """
    if len(events) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} events per delivery, got {len(events)}")
    result = IngestResult()
    if not events:
        return result
    unique = _within_delivery(events)
    result.duplicates += len(events) - len(unique)
    schema = _schema(session)
    rows = await session.execute(
        sql(
            schema,
            """
            WITH added AS (
                INSERT INTO {s}.account_events (account_id, seq, event_key, type, time, body)
                SELECT * FROM unnest(
                    CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:keys AS text[]),
                    CAST(:types AS text[]), CAST(:times AS timestamptz[]), CAST(:bodies AS text[]))
                ON CONFLICT DO NOTHING
                RETURNING account_id, seq
            )
            SELECT a.account_id, a.seq, s.evaluated_seq
            FROM added a LEFT JOIN {s}.account_state s ON s.account_id = a.account_id
            """,
        ),
        {
            "ids": [e.account_id for e in unique],
            "seqs": [e.seq for e in unique],
            "keys": [e.key for e in unique],
            "types": [e.type for e in unique],
            "times": [e.time for e in unique],
            "bodies": [e.body for e in unique],
        },
    )
    added = rows.all()
    inserted = {(a, s) for a, s, _ in added}
    # What the engine had evaluated when these arrived: an event at or before it is late.
    evaluated = {a: e or 0 for a, _, e in added}
    leftovers = [e for e in unique if (e.account_id, e.seq) not in inserted]
    if leftovers:
        await _check_leftovers(session, schema, leftovers)
        result.duplicates += len(leftovers)
    fresh = [e for e in unique if (e.account_id, e.seq) in inserted]
    result.accepted = len(fresh)
    result.late = len([e for e in fresh if e.seq <= evaluated.get(e.account_id, 0)])
    result.fresh = [(e.account_id, e.seq, e.body) for e in fresh]
    return result


def _within_delivery(events: Sequence[Ingested]) -> list[Ingested]:
    """One of each event; a delivery that contradicts itself is a conflict."""
    by_seq: dict[tuple[int, int], Ingested] = {}
    by_key: dict[tuple[int, str], Ingested] = {}
    unique = []
    for index, event in enumerate(events):
        same = by_seq.get((event.account_id, event.seq)) or by_key.get(
            (event.account_id, event.key)
        )
        if same is None:
            by_seq[(event.account_id, event.seq)] = event
            by_key[(event.account_id, event.key)] = event
            unique.append(event)
        elif same != event:
            raise Conflict(
                f"event {index} contradicts an earlier event of this delivery "
                f"(account {event.account_id}, seq {event.seq}, id {event.key!r})",
                problems=[FieldProblem(f"/events/{index}", "conflicts with another event")],
            )
    return unique


async def _check_leftovers(session: AsyncSession, schema: str, events: list[Ingested]) -> None:
    """Events the journal already had a row for: duplicates if identical, else a conflict."""
    rows = await session.execute(
        sql(
            schema,
            """
            SELECT e.account_id, e.seq, e.event_key, e.body
            FROM {s}.account_events e
            JOIN unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:keys AS text[]))
                AS d(account_id, seq, event_key)
              ON e.account_id = d.account_id AND (e.seq = d.seq OR e.event_key = d.event_key)
            """,
        ),
        {
            "ids": [e.account_id for e in events],
            "seqs": [e.seq for e in events],
            "keys": [e.key for e in events],
        },
    )
    stored: dict[tuple[int, int], tuple[str, str]] = {}
    by_key: dict[tuple[int, str], int] = {}
    for account_id, seq, key, body in rows.all():
        stored[(account_id, seq)] = (key, body)
        by_key[(account_id, key)] = seq
    problems = []
    for event in events:
        there = stored.get((event.account_id, event.seq))
        seq_of_key = by_key.get((event.account_id, event.key))
        if there == (event.key, event.body) and seq_of_key == event.seq:
            continue
        if there is not None and there[0] != event.key:
            why = f"seq {event.seq} already holds event {there[0]!r}"
        elif seq_of_key is not None and seq_of_key != event.seq:
            why = f"event {event.key!r} is already journalled as seq {seq_of_key}"
        else:
            why = f"event {event.key!r} was journalled with other values"
        problems.append(f"account {event.account_id}: {why}")
    if problems:
        raise Conflict(
            "these events contradict the journal, so nothing was written: " + "; ".join(problems)
        )


# -- deliveries from sources ---------------------------------------------------------------------
_FIELD = re.compile(r"field '([A-Za-z_]+)'")
_ENVELOPE = ("platform", "login", "seq", "event_id")


def _pointer(index: int, message: str) -> str:
    found = _FIELD.search(message)
    return f"/events/{index}/{found.group(1)}" if found else f"/events/{index}"


async def resolve_accounts(
    session: AsyncSession, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Trading account ids by ``(platform, login)``."""
    if not pairs:
        return {}
    schema = _schema(session)
    rows = await session.execute(
        sql(
            schema,
            "SELECT platform, login, id FROM {s}.trading_accounts "
            "WHERE (platform, login) IN "
            "(SELECT * FROM unnest(CAST(:p AS text[]), CAST(:l AS text[])))",
        ),
        {"p": [p for p, _ in pairs], "l": [login for _, login in pairs]},
    )
    return {(platform, login): account_id for platform, login, account_id in rows.all()}


async def deliver(
    runtime: Runtime, session: AsyncSession, items: Sequence[Mapping[str, Any]]
) -> IngestResult:
    """Journal a bridge's delivery in the session's transaction; nudge the engine after commit.

    Each item is an event object plus ``platform``, ``login``, ``seq`` and optionally
    ``event_id`` (the dedupe key; deals default to their ticket, others to their content).
    Every problem is reported with its JSON pointer and nothing is written when there is one.
    """
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            f"at most {MAX_BATCH} events per delivery, got {len(items)}",
            problems=[FieldProblem("/events", f"at most {MAX_BATCH} items")],
        )
    problems: list[FieldProblem] = []
    pairs: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        platform, login = item.get("platform"), item.get("login")
        for name, value in (("platform", platform), ("login", login)):
            if not isinstance(value, str) or not value:
                problems.append(FieldProblem(f"/events/{index}/{name}", "required, a string"))
        if isinstance(platform, str) and isinstance(login, str):
            pairs.add((platform, login))
    accounts = await resolve_accounts(session, pairs)
    prepared: list[Ingested] = []
    for index, item in enumerate(items):
        account_id = accounts.get((item.get("platform"), item.get("login")))  # type: ignore[arg-type]
        if account_id is None:
            if isinstance(item.get("platform"), str) and isinstance(item.get("login"), str):
                problems.append(
                    FieldProblem(
                        f"/events/{index}/login",
                        f"no {item['platform']} account {item['login']} on this desk",
                    )
                )
            continue
        event = {k: v for k, v in item.items() if k not in _ENVELOPE}
        try:
            prepared.append(prepare(account_id, item.get("seq"), event, key=item.get("event_id")))
        except EventError as exc:
            problems.append(FieldProblem(_pointer(index, exc.reason), exc.reason))
        except ValueError as exc:
            name = "seq" if str(exc).startswith("seq") else "event_id"
            problems.append(FieldProblem(f"/events/{index}/{name}", str(exc)))
    if problems:
        raise InvalidInput(
            f"{len(problems)} problem(s) in the delivery; nothing was journalled", problems=problems
        )
    result = await append(session, prepared)
    if result.fresh:
        tenant, fresh = session_tenant(session), result.fresh

        async def nudge() -> None:
            await engine_stream(runtime).events(tenant, fresh)

        after_commit(session, nudge)
    return result


_streams: dict[tuple[str, str], EngineStream] = {}


def engine_stream(runtime: Runtime) -> EngineStream:
    """This process's writer of engine nudges (one per Redis and queue)."""
    key = (runtime.redis_url, runtime.settings.queue_name)
    stream = _streams.get(key)
    if stream is None:
        stream = _streams[key] = EngineStream(*key, shards=runtime.settings.engine_shards)
    return stream
