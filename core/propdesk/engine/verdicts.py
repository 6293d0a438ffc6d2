"""Committing the engine's decisions: the verdict row, then the challenge's lifecycle.

Both happen in the engine's batch transaction. A verdict is recorded once per account,
instant and event (the unique key makes a repeat after a crash a no-op); the lifecycle
transition emits the outbox event the actions react to. A transition the challenge does not
take any more (an operator advanced it meanwhile) is logged and left: the verdict stays as
evidence, the lifecycle as the operator set it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.engine.models import AccountVerdict
from propdesk.lifecycle.machine import LifecycleError
from propdesk.lifecycle.transitions import Breached, Expired, Passed, Paused, Resumed, Transition

if TYPE_CHECKING:
    from propdesk.engine.desk import Verdict
    from propdesk.outbox.events import DomainEvent

log = structlog.get_logger(__name__)

#: Who the lifecycle history and the audit trail name for the engine's decisions.
ENGINE_ACTOR = "engine"


def transition_of(verdict: Verdict) -> Transition:
    decision = verdict.decision
    at, rule, why = decision.at, decision.rule or "", decision.explanation
    match decision.event:
        case "breached":
            return Breached(at=at, rule=rule, explanation=why)
        case "paused":
            return Paused(at=at, rule=rule, explanation=why)
        case "resumed":
            return Resumed(at=at, rule=rule, explanation=why)
        case "expired":
            return Expired(at=at, rule=rule, explanation=why)
        case "passed":
            return Passed(at=at, explanation=why)
    raise ValueError(f"unknown decision {decision.event!r}")


async def record_verdicts(session: AsyncSession, verdicts: Sequence[Verdict]) -> list[DomainEvent]:
    """Record each verdict and apply its transition; the outbox events to dispatch."""
    from propdesk.lifecycle.service import apply_transition

    events: list[DomainEvent] = []
    for verdict in verdicts:
        decision = verdict.decision
        inserted = await session.scalar(
            insert(AccountVerdict)
            .values(
                account_id=verdict.account_id,
                challenge_id=verdict.challenge_id,
                decided_at=decision.at,
                event=decision.event,
                rule=decision.rule,
                explanation=decision.explanation,
                version_hash=verdict.version_hash,
                input_sha256=verdict.input_sha256,
                evaluated_seq=verdict.seq,
                evaluated_until=verdict.until,
                verdict=verdict.verdict,
            )
            .on_conflict_do_nothing()
            .returning(AccountVerdict.id)
        )
        if inserted is None:
            continue  # decided and committed before: a repeat after a crash
        try:
            # A refusal comes before anything is written: no savepoint needed.
            applied = await apply_transition(
                session, None, verdict.challenge_id, transition_of(verdict), actor=ENGINE_ACTOR
            )
        except LifecycleError as exc:
            log.warning(
                "engine.transition_refused",
                account_id=verdict.account_id,
                challenge_id=verdict.challenge_id,
                decision=decision.event,
                reason=str(exc),
            )
            continue
        if applied.event is not None:
            events.append(applied.event)
    return events
