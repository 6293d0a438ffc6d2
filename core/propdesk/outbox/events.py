"""Domain events: facts in the firm's words (``desk.provisioned``, ``staff.role_granted``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    """A committed fact. ``payload`` holds JSON values only (Decimals as strings)."""

    name: str
    payload: dict[str, Any]
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: True on the delivery made right after the commit that recorded the event, in the same
    #: process: no subscriber has seen it yet and the payload describes the state now. False
    #: on deliveries from the outbox (a retry, the sweep), which must read the state back.
    first_delivery: bool = field(default=False, compare=False)
