"""An account's inputs as the engine evaluated them: what ``propdesk replay`` needs to agree.

The export is the journal up to the engine's position, source events and the engine's clock
and operator events merged in the order they were evaluated, each event's time as the engine
saw it (never earlier than the one before), and the time evaluated to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.engine import store
from propdesk.engine.live import effective_body
from propdesk.errors import NotFound
from propdesk.outbox.service import session_tenant
from propdesk.rules.events import Event, parse_event
from propdesk.tenancy.naming import schema_for


@dataclass(frozen=True)
class AccountInputs:
    product: dict[str, Any]
    phase: str
    size: str | None
    addons: tuple[str, ...]
    events: list[Event]
    #: Canonical JSON of each event, as the engine hashed it.
    bodies: list[bytes]
    until: datetime | None


async def account_inputs(session: AsyncSession, account_id: int) -> AccountInputs:
    schema = schema_for(session_tenant(session))
    row = (
        await session.execute(
            store.sql(
                schema,
                """
                SELECT a.phase_code, a.size, a.addons, s.version_hash, s.evaluated_seq,
                       s.evaluated_until
                FROM {s}.trading_accounts a
                JOIN {s}.account_state s ON s.account_id = a.id
                WHERE a.id = :a
                """,
            ),
            {"a": account_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"no trading account {account_id} on this desk")
    phase, size, addons, version_hash, evaluated_seq, until = row
    product = await store.product_content(session, schema, version_hash)
    journal = await store.journal(session, schema, account_id, store.Position(0, 0, evaluated_seq))
    bodies: list[bytes] = []
    last: datetime | None = None
    for entry in journal.entries:
        body = effective_body(entry.body, last) if last is not None else entry.body
        bodies.append(body)
        last = parse_event(json.loads(body)).time
    events = [parse_event(json.loads(body)) for body in bodies]
    return AccountInputs(product, phase, size, tuple(addons or ()), events, bodies, until)
