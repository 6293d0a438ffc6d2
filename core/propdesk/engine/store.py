"""What the engine reads from and writes to a desk's schema, in bulk.

Reads load accounts (their row, state and latest snapshot) and journal tails; the write is
one statement per table per batch (``unnest``), never one per event. Raw SQL names the desk's
schema explicitly: the engine's connections have an empty ``search_path``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.tenancy.naming import quote_schema


def sql(schema: str, query: str) -> TextClause:
    """``query`` with ``{s}`` standing for the desk's schema (validated, quoted): the engine's
    raw statements name it, since its connections have an empty ``search_path``."""
    return text(query.replace("{s}", quote_schema(schema)))


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: int
    challenge_id: int
    phase_code: str
    product_code: str
    version_hash: str
    size: str | None
    addons: tuple[str, ...]
    initial_balance: Decimal
    evaluated_seq: int
    snapshot: bytes | None
    snapshot_seq: int
    snapshot_engine_count: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One evaluated input: a source event (``seq``) or an engine event (``engine_id``)."""

    seq: int
    engine_id: int
    type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Journal:
    entries: list[JournalEntry]
    #: Source seqs the engine gave up waiting for (never evaluated).
    skipped: set[int]
    #: Engine events (clock, operator, skip) recorded for the account so far.
    engine_total: int
    #: Where the account's operator events came from (outbox event ids).
    sources: set[str]


@dataclass(slots=True)
class StateRow:
    account_id: int
    evaluated_seq: int
    evaluated_until: datetime | None
    status: str
    balance: Decimal | None
    equity: Decimal | None
    nearest_rule: str | None
    floor: Decimal | None
    headroom: Decimal | None
    headroom_pct: Decimal | None
    day: date | None
    day_min_equity: Decimal | None
    next_due: datetime | None
    last_event_at: datetime | None
    last_snapshot_at: datetime | None
    last_received_at: datetime | None
    stale: bool


@dataclass(slots=True)
class DayRow:
    account_id: int
    day: date
    start_balance: Decimal
    start_equity: Decimal
    min_equity: Decimal
    max_equity: Decimal
    close_balance: Decimal
    close_equity: Decimal
    daily_floor: Decimal | None
    max_loss_floor: Decimal | None


async def load_accounts(session: AsyncSession, schema: str, ids: Sequence[int]) -> list[AccountRow]:
    rows = await session.execute(
        sql(
            schema,
            """
            SELECT a.id, a.challenge_id, a.phase_code, a.product_code, s.version_hash, a.size,
                   a.addons, a.initial_balance, s.evaluated_seq, p.state, p.seq, p.engine_events
            FROM {s}.trading_accounts a
            JOIN {s}.account_state s ON s.account_id = a.id
            LEFT JOIN {s}.evaluation_snapshots p ON p.account_id = a.id
            WHERE a.id = ANY(CAST(:ids AS bigint[]))
            """,
        ),
        {"ids": list(ids)},
    )
    return [
        AccountRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            tuple(r[6] or ()),
            r[7],
            r[8],
            r[9],
            r[10] or 0,
            r[11] or 0,
        )
        for r in rows.all()
    ]


#: Product content by (schema, content hash): a hash names one content for good.
_PRODUCTS: dict[tuple[str, str], dict[str, Any]] = {}
_PRODUCTS_KEPT = 256


async def product_content(session: AsyncSession, schema: str, version_hash: str) -> dict[str, Any]:
    """The catalogue content with ``version_hash`` (a copy: callers may keep or change it)."""
    key = (schema, version_hash)
    content = _PRODUCTS.get(key)
    if content is None:
        content = await session.scalar(
            sql(
                schema,
                "SELECT content FROM {s}.catalogue_versions WHERE content_hash = :h LIMIT 1",
            ),
            {"h": version_hash},
        )
        if content is None:
            raise LookupError(f"no catalogue version {version_hash}")
        if len(_PRODUCTS) >= _PRODUCTS_KEPT:
            _PRODUCTS.pop(next(iter(_PRODUCTS)))
        _PRODUCTS[key] = content
    return copy.deepcopy(content)


@dataclass(frozen=True, slots=True)
class Position:
    """Where to read an account's journal from: after source ``seq`` and the first
    ``skip_engine`` engine events (``None``: source events only), up to ``upto`` if given."""

    seq: int = 0
    skip_engine: int | None = 0
    upto: int | None = None


async def journals(
    session: AsyncSession, schema: str, positions: dict[int, Position]
) -> dict[int, Journal]:
    """The evaluated inputs of many accounts, each from its position, in evaluation order.

    Two queries whatever the number of accounts; skipped seqs are left out.
    """
    if not positions:
        return {}
    ids = list(positions)
    big = 2**62
    events = (
        await session.execute(
            sql(
                schema,
                """
                SELECT e.account_id, e.seq, e.type, e.body
                FROM {s}.account_events e
                JOIN unnest(CAST(:ids AS bigint[]), CAST(:after AS bigint[]),
                            CAST(:upto AS bigint[])) AS p(account_id, after, upto)
                  ON e.account_id = p.account_id AND e.seq > p.after AND e.seq <= p.upto
                ORDER BY e.account_id, e.seq
                """,
            ),
            {
                "ids": ids,
                "after": [positions[i].seq for i in ids],
                "upto": [big if positions[i].upto is None else positions[i].upto for i in ids],
            },
        )
    ).all()
    engine_rows = (
        await session.execute(
            sql(
                schema,
                "SELECT account_id, id, after_seq, type, body, source "
                "FROM {s}.account_engine_events "
                "WHERE account_id = ANY(CAST(:ids AS bigint[])) ORDER BY account_id, id",
            ),
            {"ids": ids},
        )
    ).all()
    placed: dict[int, list[tuple[int, int, int, JournalEntry]]] = {i: [] for i in ids}
    skipped: dict[int, set[int]] = {i: set() for i in ids}
    sources: dict[int, set[str]] = {i: set() for i in ids}
    totals: dict[int, int] = dict.fromkeys(ids, 0)
    for account_id, engine_id, after, kind, body, source in engine_rows:
        index = totals[account_id]
        totals[account_id] = index + 1
        if source is not None:
            sources[account_id].add(source)
        if kind == "skip":
            skipped[account_id].update(json.loads(body)["seqs"])
            continue
        skip = positions[account_id].skip_engine
        if skip is None or index < skip:
            continue
        entry = JournalEntry(after, engine_id, kind, body.encode())
        placed[account_id].append((after, 1, engine_id, entry))
    for account_id, seq, kind, body in events:
        if seq not in skipped[account_id]:
            placed[account_id].append((seq, 0, 0, JournalEntry(seq, 0, kind, body.encode())))
    result = {}
    for account_id, items in placed.items():
        # A source event comes before the engine events placed after it; those keep their order.
        items.sort(key=lambda item: item[:3])
        result[account_id] = Journal(
            [entry for *_, entry in items],
            skipped[account_id],
            totals[account_id],
            sources[account_id],
        )
    return result


async def journal(
    session: AsyncSession, schema: str, account_id: int, position: Position = Position()
) -> Journal:
    return (await journals(session, schema, {account_id: position}))[account_id]


async def pending_accounts(
    session: AsyncSession, schema: str, settled: datetime | None = None
) -> dict[int, int]:
    """Accounts whose journal holds source events past what the engine persisted as evaluated,
    with their last such seq; only events received before ``settled`` count, when given (newer
    ones are still on their way through the nudges)."""
    rows = await session.execute(
        sql(
            schema,
            """
            SELECT s.account_id, m.seq FROM {s}.account_state s
            CROSS JOIN LATERAL (
                SELECT max(e.seq) AS seq FROM {s}.account_events e
                WHERE e.account_id = s.account_id
                  AND (CAST(:settled AS timestamptz) IS NULL OR e.received_at < :settled)
            ) m
            WHERE m.seq > s.evaluated_seq
            """,
        ),
        {"settled": settled},
    )
    return {r[0]: r[1] for r in rows.all()}


async def due_accounts(session: AsyncSession, schema: str, until: datetime) -> list[int]:
    rows = await session.execute(
        sql(
            schema,
            "SELECT account_id FROM {s}.account_state "
            "WHERE next_due IS NOT NULL AND next_due <= :t",
        ),
        {"t": until},
    )
    return [r[0] for r in rows.all()]


def _columns(rows: Sequence[Any], columns: Sequence[tuple[str, str]]) -> dict[str, list[Any]]:
    """Column arrays for ``unnest``; numbers travel as text (a third of the cost of binary
    numeric encoding, exactly the same values)."""
    arrays: dict[str, list[Any]] = {}
    for name, kind in columns:
        values = [getattr(row, name) for row in rows]
        if kind == "numeric":
            values = [None if v is None else str(v) for v in values]
        arrays[name] = values
    return arrays


_STATE = (
    ("evaluated_seq", "bigint"),
    ("evaluated_until", "timestamptz"),
    ("status", "text"),
    ("balance", "numeric"),
    ("equity", "numeric"),
    ("nearest_rule", "text"),
    ("floor", "numeric"),
    ("headroom", "numeric"),
    ("headroom_pct", "numeric"),
    ("day", "date"),
    ("day_min_equity", "numeric"),
    ("next_due", "timestamptz"),
    ("last_event_at", "timestamptz"),
    ("last_snapshot_at", "timestamptz"),
    ("last_received_at", "timestamptz"),
    ("stale", "boolean"),
)
_DAY = (
    ("start_balance", "numeric"),
    ("start_equity", "numeric"),
    ("min_equity", "numeric"),
    ("max_equity", "numeric"),
    ("close_balance", "numeric"),
    ("close_equity", "numeric"),
    ("daily_floor", "numeric"),
    ("max_loss_floor", "numeric"),
)


def _unnest(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(
        f"CAST(CAST(:{name} AS text[]) AS numeric[])"
        if kind == "numeric"
        else f"CAST(:{name} AS {kind}[])"
        for name, kind in columns
    )


_STATE_NAMES = ", ".join(name for name, _ in _STATE)
_DAY_NAMES = ", ".join(name for name, _ in _DAY)
# Built once from the constant column lists above: nothing from outside reaches these.
_UPDATE_STATES = (
    "UPDATE {s}.account_state s SET "  # noqa: S608
    + ", ".join(f"{name} = d.{name}" for name, _ in _STATE)
    + ", updated_at = now() FROM unnest(CAST(:account_id AS bigint[]), "
    + _unnest(_STATE)
    + f") AS d(account_id, {_STATE_NAMES}) WHERE s.account_id = d.account_id"
    # Said twice so that the planner looks the rows up by key instead of hashing the table.
    + " AND s.account_id = ANY(CAST(:account_id AS bigint[]))"
)
_UPSERT_DAYS = (
    f"INSERT INTO {{s}}.account_days (account_id, day, {_DAY_NAMES}) "  # noqa: S608
    "SELECT * FROM unnest(CAST(:account_id AS bigint[]), CAST(:day AS date[]), "
    + _unnest(_DAY)
    + ") ON CONFLICT (account_id, day) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name, _ in _DAY)
    + ", updated_at = now()"
)


async def write_states(session: AsyncSession, schema: str, rows: Sequence[StateRow]) -> None:
    if rows:
        await session.execute(
            sql(schema, _UPDATE_STATES),
            {"account_id": [r.account_id for r in rows], **_columns(rows, _STATE)},
        )


async def write_days(session: AsyncSession, schema: str, rows: Sequence[DayRow]) -> None:
    if rows:
        await session.execute(
            sql(schema, _UPSERT_DAYS),
            {
                "account_id": [r.account_id for r in rows],
                "day": [r.day for r in rows],
                **_columns(rows, _DAY),
            },
        )


_ENGINE_EVENT_NAMES = ("a", "s", "at", "k", "b", "src")


async def write_engine_events(
    session: AsyncSession,
    schema: str,
    rows: Sequence[tuple[int, int, datetime, str, str, str | None]],
) -> None:
    """Insert ``(account_id, after_seq, at, type, body, source)`` rows, in their order (ids
    follow it: the journal orders an account's engine events by id)."""
    if not rows:
        return
    await session.execute(
        sql(
            schema,
            """
            INSERT INTO {s}.account_engine_events (account_id, after_seq, at, type, body, source)
            SELECT a, s, at, k, b, src
            FROM unnest(CAST(:a AS bigint[]), CAST(:s AS bigint[]), CAST(:at AS timestamptz[]),
                        CAST(:k AS text[]), CAST(:b AS text[]), CAST(:src AS text[]))
                 WITH ORDINALITY AS d(a, s, at, k, b, src, n)
            ORDER BY n
            """,
        ),
        {name: [row[i] for row in rows] for i, name in enumerate(_ENGINE_EVENT_NAMES)},
    )


async def write_snapshots(
    session: AsyncSession, schema: str, rows: Sequence[tuple[int, int, int, bytes]]
) -> None:
    """Upsert ``(account_id, seq, last engine-event id, pickled state)`` rows."""
    if not rows:
        return
    await session.execute(
        sql(
            schema,
            """
            INSERT INTO {s}.evaluation_snapshots (account_id, seq, engine_events, state)
            SELECT * FROM unnest(CAST(:a AS bigint[]), CAST(:s AS bigint[]),
                                 CAST(:e AS bigint[]), CAST(:p AS bytea[]))
            ON CONFLICT (account_id) DO UPDATE
            SET seq = excluded.seq, engine_events = excluded.engine_events,
                state = excluded.state, taken_at = now()
            """,
        ),
        {
            "a": [r[0] for r in rows],
            "s": [r[1] for r in rows],
            "e": [r[2] for r in rows],
            "p": [r[3] for r in rows],
        },
    )


async def open_alerts(
    session: AsyncSession, schema: str, kind: str, alerts: Sequence[tuple[int, str]]
) -> list[int]:
    """Open ``(account_id, detail)`` alerts of ``kind``, except where one of that kind is open
    for the account; the accounts whose alert was opened."""
    if not alerts:
        return []
    rows = await session.execute(
        sql(
            schema,
            """
            INSERT INTO {s}.data_quality_alerts (account_id, kind, detail)
            SELECT DISTINCT ON (a) a, :k, d
            FROM unnest(CAST(:a AS bigint[]), CAST(:d AS text[])) AS x(a, d)
            ON CONFLICT (account_id, kind) WHERE closed_at IS NULL DO NOTHING
            RETURNING account_id
            """,
        ),
        {"k": kind, "a": [a for a, _ in alerts], "d": [d for _, d in alerts]},
    )
    return [r[0] for r in rows.all()]


async def close_alerts(
    session: AsyncSession, schema: str, account_ids: Sequence[int], kind: str
) -> None:
    if account_ids:
        await session.execute(
            sql(
                schema,
                "UPDATE {s}.data_quality_alerts SET closed_at = now() "
                "WHERE kind = :k AND closed_at IS NULL AND account_id = ANY(CAST(:a AS bigint[]))",
            ),
            {"k": kind, "a": list(account_ids)},
        )
