"""What the engine did, over HTTP: the near-breach list, an account's timeline and journal, and
the desk's data-quality alerts. Read only; every answer is the desk's own accounts.

Money is a decimal string, percentages too; times are ISO-8601 UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import FromPath, QueryParameter

from propdesk.access.permissions import requires
from propdesk.catalogue.families import rule_families
from propdesk.engine import views
from propdesk.engine.models import AccountDay, AccountVerdict
from propdesk.http.deps import RuntimeDep, SessionDep, TenantDep
from propdesk.lifecycle.models import ChallengeHistory

TAGS = ["engine"]
READ = requires("engine", "read")


def _text(value: object) -> str | None:
    """A Decimal (or anything) as its exact text; None stays None."""
    return None if value is None else str(value)


class NearBreachView(msgspec.Struct):
    account_id: int
    platform: str
    login: str
    challenge_id: int
    phase_code: str
    status: str
    nearest_rule: str | None
    floor: str | None
    equity: str | None
    headroom: str | None
    headroom_pct: str
    stale: bool
    evaluated_until: datetime | None


class AlertView(msgspec.Struct):
    id: int
    account_id: int
    platform: str
    login: str
    challenge_id: int
    kind: str
    open: bool
    opened_at: datetime
    closed_at: datetime | None
    detail: str


class NearestView(msgspec.Struct):
    rule: str | None
    floor: str | None
    headroom: str | None
    headroom_pct: str | None


class AccountView(msgspec.Struct):
    id: int
    platform: str
    login: str
    challenge_id: int
    phase: int
    phase_code: str
    attempt: int
    product_code: str
    version_hash: str
    size: str | None
    addons: list[str]
    currency: str
    initial_balance: str
    opened_at: datetime
    status: str
    balance: str | None
    equity: str | None
    evaluated_seq: int
    evaluated_until: datetime | None
    stale: bool
    nearest: NearestView
    day: date | None
    day_min_equity: str | None
    last_snapshot_at: datetime | None
    last_received_at: datetime | None


class DayView(msgspec.Struct):
    day: date
    start_balance: str
    start_equity: str
    min_equity: str
    max_equity: str
    close_balance: str
    close_equity: str
    daily_floor: str | None
    max_loss_floor: str | None


class DecisionView(msgspec.Struct):
    event: str
    decided_at: datetime
    rule: str | None
    explanation: str
    version_hash: str
    input_sha256: str
    evaluated_seq: int
    evaluated_until: datetime


class HistoryView(msgspec.Struct):
    seq: int
    at: datetime
    event: str
    from_status: str | None
    to_status: str
    phase: int
    attempt: int
    rule: str | None
    explanation: str | None
    actor: str | None
    reason: str | None


class ExplanationNearestView(msgspec.Struct):
    rule: str
    measure: str
    current: str
    floor: str
    headroom: str
    headroom_pct: str | None


class ExplanationView(msgspec.Struct):
    source: str
    status: str | None
    rule: str | None
    text: str
    decided_at: datetime | None
    nearest: ExplanationNearestView | None
    objectives: list[dict[str, Any]]


class TimelineView(msgspec.Struct):
    account: AccountView
    days: list[DayView]
    decisions: list[DecisionView]
    history: list[HistoryView]
    alerts: list[AlertView]
    explanation: ExplanationView


def _near(row: views.NearBreach) -> NearBreachView:
    return NearBreachView(
        account_id=row.account_id,
        platform=row.platform,
        login=row.login,
        challenge_id=row.challenge_id,
        phase_code=row.phase_code,
        status=row.status,
        nearest_rule=row.nearest_rule,
        floor=_text(row.floor),
        equity=_text(row.equity),
        headroom=_text(row.headroom),
        headroom_pct=str(row.headroom_pct),
        stale=row.stale,
        evaluated_until=row.evaluated_until,
    )


def _alert(row: views.Alert) -> AlertView:
    return AlertView(
        id=row.id,
        account_id=row.account_id,
        platform=row.platform,
        login=row.login,
        challenge_id=row.challenge_id,
        kind=row.kind,
        open=row.closed_at is None,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        detail=row.detail,
    )


def _account(found: views.Timeline) -> AccountView:
    account, state = found.account, found.state
    return AccountView(
        id=account.id,
        platform=account.platform,
        login=account.login,
        challenge_id=account.challenge_id,
        phase=account.phase,
        phase_code=account.phase_code,
        attempt=account.attempt,
        product_code=account.product_code,
        # A re-bound account is evaluated under its new version: the state's.
        version_hash=state.version_hash if state is not None else account.version_hash,
        size=account.size,
        addons=list(account.addons or []),
        currency=account.currency,
        initial_balance=str(account.initial_balance),
        opened_at=account.opened_at,
        status=state.status if state is not None else "not_opened",
        balance=_text(state.balance) if state is not None else None,
        equity=_text(state.equity) if state is not None else None,
        evaluated_seq=state.evaluated_seq if state is not None else 0,
        evaluated_until=state.evaluated_until if state is not None else None,
        stale=state.stale if state is not None else False,
        nearest=NearestView(
            rule=state.nearest_rule if state is not None else None,
            floor=_text(state.floor) if state is not None else None,
            headroom=_text(state.headroom) if state is not None else None,
            headroom_pct=_text(state.headroom_pct) if state is not None else None,
        ),
        day=state.day if state is not None else None,
        day_min_equity=_text(state.day_min_equity) if state is not None else None,
        last_snapshot_at=state.last_snapshot_at if state is not None else None,
        last_received_at=state.last_received_at if state is not None else None,
    )


def _day(row: AccountDay) -> DayView:
    return DayView(
        day=row.day,
        start_balance=str(row.start_balance),
        start_equity=str(row.start_equity),
        min_equity=str(row.min_equity),
        max_equity=str(row.max_equity),
        close_balance=str(row.close_balance),
        close_equity=str(row.close_equity),
        daily_floor=_text(row.daily_floor),
        max_loss_floor=_text(row.max_loss_floor),
    )


def _decision(row: AccountVerdict) -> DecisionView:
    return DecisionView(
        event=row.event,
        decided_at=row.decided_at,
        rule=row.rule,
        explanation=row.explanation,
        version_hash=row.version_hash,
        input_sha256=row.input_sha256,
        evaluated_seq=row.evaluated_seq,
        evaluated_until=row.evaluated_until,
    )


def _history(row: ChallengeHistory) -> HistoryView:
    return HistoryView(
        seq=row.seq,
        at=row.at,
        event=row.event,
        from_status=row.from_status,
        to_status=row.to_status,
        phase=row.phase,
        attempt=row.attempt,
        rule=row.rule,
        explanation=row.explanation,
        actor=row.actor,
        reason=row.reason,
    )


def _explanation(found: views.Explanation) -> ExplanationView:
    nearest = found.nearest
    return ExplanationView(
        source=found.source,
        status=found.status,
        rule=found.rule,
        text=found.text,
        decided_at=found.decided_at,
        nearest=ExplanationNearestView(
            rule=nearest.rule,
            measure=nearest.measure,
            current=str(nearest.current),
            floor=str(nearest.floor),
            headroom=str(nearest.headroom),
            headroom_pct=_text(nearest.headroom_pct),
        )
        if nearest is not None
        else None,
        objectives=found.objectives,
    )


@get("/api/accounts/near-breach", opt=READ, operation_id="listNearBreach", tags=TAGS)
async def list_near_breach(
    session: SessionDep,
    within: Annotated[
        str | None,
        QueryParameter(
            description="Headroom to the nearest floor, in percent of the initial balance, "
            "at most this (0 to 100; default 2)."
        ),
    ] = None,
    limit: Annotated[
        str | None, QueryParameter(description="At most this many accounts (1 to 500; 100).")
    ] = None,
    rule: Annotated[
        str | None, QueryParameter(description="Only accounts nearest to this rule's floor.")
    ] = None,
) -> list[NearBreachView]:
    """Trading accounts (active or paused) closest to a floor, closest first."""
    rows = await views.near_breach(
        session,
        within=views.parse_within(within),
        limit=views.parse_limit(limit),
        rule=rule or None,
    )
    return [_near(row) for row in rows]


@get(
    "/api/accounts/{account_id:int}/timeline",
    opt=READ,
    operation_id="getAccountTimeline",
    tags=TAGS,
)
async def get_account_timeline(
    session: SessionDep, runtime: RuntimeDep, tenant: TenantDep, account_id: FromPath[int]
) -> TimelineView:
    """One account's story: its state, its days and floors, the engine's decisions, the
    challenge's lifecycle, its data-quality alerts, and why it stands where it does."""
    found = await views.timeline(session, rule_families(runtime.host, tenant), account_id)
    return TimelineView(
        account=_account(found),
        days=[_day(row) for row in found.days],
        decisions=[_decision(row) for row in found.decisions],
        history=[_history(row) for row in found.history],
        alerts=[_alert(row) for row in found.alerts],
        explanation=_explanation(found.explanation),
    )


@get(
    "/api/accounts/{account_id:int}/journal",
    opt=READ,
    operation_id="getAccountJournal",
    tags=TAGS,
)
async def get_account_journal(session: SessionDep, account_id: FromPath[int]) -> Response[str]:
    """The account's inputs exactly as ``propdesk replay --events`` reads them (one canonical
    event per line); the headers name the product version, phase, size, add-ons and the time
    evaluated to (``--until``)."""
    found = await views.journal(session, account_id)
    headers = {
        "X-Propdesk-Version-Hash": found.version_hash,
        "X-Propdesk-Phase": found.phase,
        "X-Propdesk-Events": str(len(found.lines)),
        "Content-Disposition": f'attachment; filename="account-{account_id}.jsonl"',
    }
    # A header that does not apply is left out (an empty value would read as "").
    optional = {
        "X-Propdesk-Product": found.product_code,
        "X-Propdesk-Product-Version": _text(found.product_version),
        "X-Propdesk-Size": found.size,
        "X-Propdesk-Addons": ",".join(found.addons),
        "X-Propdesk-Until": found.until_text,
    }
    headers.update({name: value for name, value in optional.items() if value})
    return Response(found.text(), media_type="application/x-ndjson", headers=headers)


@get("/api/engine/alerts", opt=READ, operation_id="listDataQualityAlerts", tags=TAGS)
async def list_alerts(
    session: SessionDep,
    open_: Annotated[
        str | None,
        QueryParameter(name="open", description="true: open alerts only; false: closed only."),
    ] = None,
    kind: Annotated[
        str | None, QueryParameter(description="stale, gap, late, conflict or bad_event.")
    ] = None,
    limit: Annotated[
        str | None, QueryParameter(description="At most this many alerts (1 to 500; 100).")
    ] = None,
) -> list[AlertView]:
    """The desk's data-quality alerts, newest first."""
    rows = await views.alerts(
        session,
        open_=views.parse_open(open_),
        kind=views.parse_kind(kind),
        limit=views.parse_limit(limit),
    )
    return [_alert(row) for row in rows]


ROUTES = [list_near_breach, get_account_timeline, get_account_journal, list_alerts]
