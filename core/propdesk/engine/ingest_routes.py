"""Platform events from bridge services over HTTP: one delivery per request, journalled whole.

A bridge (a service next to a platform that pushes its deals and equity) posts batches::

    POST /api/engine/events
    {"events": [{"platform": "mt5", "login": "70001", "seq": 42, "event_id": "b-7781",
                 "type": "deal", "time": "...", "id": "991", ...}, ...]}

``seq`` is the bridge's own order per account (1, 2, 3, ...); ``event_id`` is optional (deals
default to their ticket, other events to their content). The answer (202) comes once the events are
committed; repeating a delivery is safe.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import post
from litestar.params import JSONBody

from propdesk.access.permissions import requires
from propdesk.engine.ingest import deliver
from propdesk.errors import FieldProblem, InvalidInput
from propdesk.http.deps import RuntimeDep, SessionDep

TAGS = ["engine"]


class DeliveryResult(msgspec.Struct):
    accepted: int
    duplicates: int
    late: int


@post(
    "/api/engine/events",
    opt=requires("engine", "ingest"),
    status_code=202,
    operation_id="ingestEvents",
    tags=TAGS,
)
async def ingest_events(
    runtime: RuntimeDep, session: SessionDep, data: JSONBody[dict[str, Any]]
) -> DeliveryResult:
    """Journal a delivery of platform events (all or nothing) and nudge the engine."""
    events = data.get("events")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise InvalidInput(
            'the body must be {"events": [ {...}, ... ]}',
            problems=[FieldProblem("/events", "required, a list of event objects")],
        )
    result = await deliver(runtime, session, events)
    return DeliveryResult(result.accepted, result.duplicates, result.late)


ROUTES = [ingest_events]
