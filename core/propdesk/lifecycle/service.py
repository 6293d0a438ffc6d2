"""Challenges in the database: open one, load it, apply a transition (engine, trader, platform
or operator), each in the caller's transaction, audited, with an outbox event for reactions.

The state is always the machine's: ``load_challenge`` replays the stored history through
``machine.apply``, so what the row says and what the history says cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from propdesk.audit.service import record
from propdesk.catalogue.models import PUBLISHED, RETIRED, CatalogueVersion
from propdesk.errors import FieldProblem, InvalidInput, NotFound
from propdesk.lifecycle import machine
from propdesk.lifecycle.codec import transition_from_json, transition_to_json
from propdesk.lifecycle.models import ChallengeHistory, ChallengeRow
from propdesk.lifecycle.transitions import (
    Advance,
    Extend,
    OperatorAction,
    Rebind,
    Reinstate,
    Transition,
)
from propdesk.outbox.events import DomainEvent
from propdesk.outbox.service import emit

if TYPE_CHECKING:
    from propdesk.worker.queue import JobQueue


@dataclass(frozen=True)
class Applied:
    state: machine.Challenge
    entry: machine.HistoryEntry
    #: The outbox event (None when the transition had already been applied: a repeat).
    event: DomainEvent | None


def _target(challenge_id: int) -> str:
    return f"challenge:{challenge_id}"


async def open_challenge(
    session: AsyncSession,
    queue: JobQueue | None,
    *,
    product_code: str,
    size: str | None,
    addons: list[str],
    trader_email: str,
    trader_name: str,
    actor: str,
    version: int | None = None,
) -> ChallengeRow:
    """A challenge awaiting payment, pinned to a published version of the product (the latest
    unless ``version`` says which)."""
    query = select(CatalogueVersion).where(
        CatalogueVersion.product_code == product_code, CatalogueVersion.status == PUBLISHED
    )
    if version is not None:
        query = query.where(CatalogueVersion.version == version)
    row = await session.scalar(query.order_by(CatalogueVersion.version.desc()).limit(1))
    if row is None:
        raise InvalidInput(
            f"product {product_code!r} has no published version"
            + (f" {version}" if version is not None else ""),
            problems=[FieldProblem("product_code", "no such published product version")],
        )
    phases = [{"code": p["code"], "kind": p["kind"]} for p in row.content["phases"]]
    state = machine.Challenge.start([p["kind"] for p in phases], row.content_hash)
    challenge = ChallengeRow(
        trader_email=trader_email,
        trader_name=trader_name,
        product_code=product_code,
        version_hash=row.content_hash,
        ordered_version_hash=row.content_hash,
        size=size,
        addons=list(addons),
        phases=phases,
        status=state.status,
        phase=0,
        attempt=1,
        extension_days=0,
    )
    session.add(challenge)
    await session.flush()
    await record(
        session,
        chain="tenant",
        actor=actor,
        action="challenge.ordered",
        target=_target(challenge.id),
        after={"product_code": product_code, "version_hash": row.content_hash, "size": size},
    )
    emit(session, queue, "challenge.ordered", {"challenge_id": challenge.id, **_facts(challenge)})
    return challenge


def _facts(row: ChallengeRow) -> dict[str, Any]:
    return {
        "product_code": row.product_code,
        "version_hash": row.version_hash,
        "size": row.size,
        "addons": list(row.addons),
        "trader_email": row.trader_email,
    }


async def load_challenge(
    session: AsyncSession, challenge_id: int, *, lock: bool = False
) -> tuple[ChallengeRow, machine.Challenge]:
    query = select(ChallengeRow).where(ChallengeRow.id == challenge_id)
    if lock:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise NotFound(f"no challenge {challenge_id} on this desk")
    entries = await session.scalars(
        select(ChallengeHistory)
        .where(ChallengeHistory.challenge_id == challenge_id)
        .order_by(ChallengeHistory.seq)
    )
    first = machine.Challenge.start([p["kind"] for p in row.phases], row.ordered_version_hash)
    history = [transition_from_json(e.transition) for e in entries]
    return row, machine.replay(first, history)


async def apply_transition(
    session: AsyncSession,
    queue: JobQueue | None,
    challenge_id: int,
    transition: Transition,
    *,
    actor: str,
) -> Applied:
    """Apply ``transition`` to the challenge (row locked) in the caller's transaction.

    ``LifecycleError`` (409) when the challenge does not take it. An engine decision repeated
    (same event, instant and rule as the last entry) is returned as it was, adding nothing.
    """
    row, state = await load_challenge(session, challenge_id, lock=True)
    if state.history:
        last = state.history[-1]
        if (
            last.event == transition.event
            and last.at == transition.at
            and last.rule == getattr(transition, "rule", None)
            and not isinstance(transition, OperatorAction)
        ):
            return Applied(state, last, None)
    before = {"status": state.status, "phase": state.phase, "attempt": state.attempt}
    after_state = machine.apply(state, transition)
    entry = after_state.history[-1]
    row.status = after_state.status
    row.phase = after_state.phase
    row.attempt = after_state.attempt
    row.account = after_state.account
    row.paused_by = after_state.paused_by
    row.extension_days = after_state.extension_days
    row.version_hash = after_state.version_hash
    row.updated_at = datetime.now(UTC)
    session.add(
        ChallengeHistory(
            challenge_id=challenge_id,
            seq=entry.seq,
            at=entry.at,
            event=entry.event,
            from_status=entry.from_status,
            to_status=entry.to_status,
            phase=entry.phase,
            attempt=entry.attempt,
            rule=entry.rule,
            explanation=entry.explanation,
            actor=entry.actor or actor,
            reason=entry.reason,
            transition=transition_to_json(transition),
        )
    )
    await session.flush()
    after = {"status": after_state.status, "phase": after_state.phase, "attempt": entry.attempt}
    await record(
        session,
        chain="tenant",
        actor=actor,
        action=f"challenge.{entry.event}",
        target=_target(challenge_id),
        before=before,
        after={**after, "rule": entry.rule, "reason": entry.reason},
    )
    phase = row.phases[after_state.phase]
    payload: dict[str, Any] = {
        "challenge_id": challenge_id,
        "event": entry.event,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "phase": after_state.phase,
        "phase_code": phase["code"],
        "phase_kind": phase["kind"],
        "attempt": after_state.attempt,
        "account": after_state.account or state.account,
        "rule": entry.rule,
        "explanation": entry.explanation,
        "actor": entry.actor or actor,
        "reason": entry.reason,
        "at": entry.at.astimezone(UTC).isoformat(),
        **_facts(row),
    }
    if isinstance(transition, Extend):
        payload["days"] = transition.days
    event = emit(session, queue, f"challenge.{entry.event}", payload)
    return Applied(after_state, entry, event)


async def operate(
    session: AsyncSession,
    queue: JobQueue | None,
    challenge_id: int,
    *,
    action: str,
    reason: str,
    actor: str,
    days: int | None = None,
    version: int | None = None,
) -> Applied:
    """An operator action with its reason: reinstate, extend, advance or rebind."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "an operator action needs a reason",
            problems=[FieldProblem("reason", "required: say why (it goes into the audit trail)")],
        )
    at = datetime.now(UTC)
    transition: Transition
    match action:
        case "reinstate":
            transition = Reinstate(at=at, actor=actor, reason=reason)
        case "advance":
            transition = Advance(at=at, actor=actor, reason=reason)
        case "extend":
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                raise InvalidInput(
                    "extend needs a number of days",
                    problems=[FieldProblem("days", "required for extend: a whole number from 1")],
                )
            transition = Extend(at=at, actor=actor, reason=reason, days=days)
        case "rebind":
            row, _state = await load_challenge(session, challenge_id)
            transition = Rebind(
                at=at,
                actor=actor,
                reason=reason,
                version_hash=await _published_hash(session, row.product_code, version),
            )
        case _:
            raise InvalidInput(
                f"unknown action {action!r}",
                problems=[FieldProblem("action", "one of reinstate, extend, advance, rebind")],
            )
    return await apply_transition(session, queue, challenge_id, transition, actor=actor)


async def _published_hash(session: AsyncSession, product_code: str, version: int | None) -> str:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput(
            "rebind needs a version",
            problems=[FieldProblem("version", "required for rebind: a published version number")],
        )
    row = await session.scalar(
        select(CatalogueVersion).where(
            CatalogueVersion.product_code == product_code, CatalogueVersion.version == version
        )
    )
    if row is None or row.status == RETIRED or row.status != PUBLISHED:
        state = "retired" if row is not None and row.status == RETIRED else "not published"
        raise InvalidInput(
            f"version {version} of {product_code} is {state}",
            problems=[FieldProblem("version", f"version {version} of {product_code} is {state}")],
        )
    return row.content_hash


async def count_challenges(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ChallengeRow)) or 0)


async def trader_challenges(session: AsyncSession, email: str) -> list[ChallengeRow]:
    """The trader's challenges (by their e-mail, in any case), newest first."""
    return (await challenges_of_traders(session, [email]))[email.lower()]


async def trader_challenge(
    session: AsyncSession, challenge_id: int, email: str
) -> tuple[ChallengeRow, machine.Challenge]:
    """One of the trader's challenges and its state; another trader's is not there (NotFound,
    in the same words as one that does not exist)."""
    owner = await session.scalar(
        select(ChallengeRow.trader_email).where(ChallengeRow.id == challenge_id)
    )
    if owner is None or owner.lower() != email.lower():
        raise NotFound(f"no challenge {challenge_id} of this trader")
    return await load_challenge(session, challenge_id)


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many of the desk's challenges stand in each status."""
    rows = await session.execute(
        select(ChallengeRow.status, func.count()).group_by(ChallengeRow.status)
    )
    return {str(status): int(count) for status, count in rows}


@dataclass(frozen=True)
class Decision:
    """A rule's decision about a challenge (a breach, a pause), with the challenge's trader."""

    entry: ChallengeHistory
    challenge: ChallengeRow


async def recent_decisions(
    session: AsyncSession, *, events: tuple[str, ...] = ("breached", "paused"), limit: int = 50
) -> list[Decision]:
    """The latest transitions a rule decided (``events``), newest first."""
    rows = await session.execute(
        select(ChallengeHistory, ChallengeRow)
        .join(ChallengeRow, ChallengeRow.id == ChallengeHistory.challenge_id)
        .where(ChallengeHistory.event.in_(events), ChallengeHistory.rule.is_not(None))
        .order_by(ChallengeHistory.at.desc(), ChallengeHistory.challenge_id.desc())
        .limit(limit)
    )
    return [Decision(entry, challenge) for entry, challenge in rows.tuples()]


async def challenges_of_traders(
    session: AsyncSession, emails: Iterable[str]
) -> dict[str, list[ChallengeRow]]:
    """Each trader's challenges (by lower-cased e-mail), newest first."""
    wanted = {email.lower() for email in emails}
    found: dict[str, list[ChallengeRow]] = {email: [] for email in wanted}
    if not wanted:
        return found
    rows = await session.scalars(
        select(ChallengeRow)
        .where(func.lower(ChallengeRow.trader_email).in_(wanted))
        .order_by(ChallengeRow.id.desc())
    )
    for row in rows:
        found[row.trader_email.lower()].append(row)
    return found
