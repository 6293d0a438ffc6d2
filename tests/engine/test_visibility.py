"""What risk and support see of the engine's work over HTTP: the near-breach list, an account's
timeline with why it stands where it does, its journal for ``propdesk replay``, and the desk's
data-quality alerts. Rows are written directly, as the engine would leave them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from propdesk.catalogue.families import rule_families
from propdesk.catalogue.product import content_hash
from propdesk.catalogue.service import publish_content
from propdesk.engine.models import (
    AccountDay,
    AccountEvent,
    AccountState,
    AccountVerdict,
    DataQualityAlert,
    TradingAccount,
)
from propdesk.engine.replay import replay
from propdesk.engine.views import nearest_floor, objectives_text
from propdesk.lifecycle.service import apply_transition, open_challenge
from propdesk.lifecycle.transitions import Breached, Paid, Provisioned
from propdesk.rules.events import canonical, canonical_json, parse_event, parse_time, read_events
from propdesk.runtime import Runtime
from propdesk.tenancy.context import TenantContext

NEAR = "/api/accounts/near-breach"
ALERTS = "/api/engine/alerts"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

#: 5% daily loss from the day-start balance, 10% static max loss, a 10% target.
PRODUCT: dict[str, Any] = {
    "code": "vis-test",
    "name": "Visibility test challenge",
    "currency": "USD",
    "trading_day": {"time": "00:00", "timezone": "Europe/Prague"},
    "sizes": [{"code": "100k", "balance": "100000", "prices": {"USD": "540.00"}}],
    "payout": {"split_percent": "80", "first_after_days": 14, "cadence": "biweekly"},
    "phases": [
        {
            "code": "phase1",
            "name": "Phase 1",
            "kind": "evaluation",
            "platform": "mt5",
            "group": "demo\\vis\\phase1",
            "leverage": 100,
            "rules": [
                {
                    "family": "daily_loss",
                    "params": {"amount": {"percent": "5", "of": "initial_balance"}},
                },
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
                {
                    "family": "profit_target",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                },
            ],
        },
        {
            "code": "funded",
            "name": "Funded",
            "kind": "funded",
            "platform": "mt5",
            "group": "real\\vis\\funded",
            "leverage": 30,
            "rules": [
                {
                    "family": "max_loss",
                    "params": {"amount": {"percent": "10", "of": "initial_balance"}},
                }
            ],
        },
    ],
}
VERSION = content_hash(PRODUCT)


def on(desk: TenantContext, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Propdesk-Tenant": desk.slug}


@pytest.fixture
async def desk(propdesk_runtime: Runtime, make_tenant: Any) -> TenantContext:
    tenant: TenantContext = await make_tenant(f"vis{uuid.uuid4().hex[:8]}")
    families = rule_families(propdesk_runtime.host, tenant)
    async with propdesk_runtime.db.unit_of_work(tenant) as session:
        await publish_content(session, propdesk_runtime.queue, families, PRODUCT, "test")
    return tenant


async def reader(make_staff: Any, sign_in: Any, desk: TenantContext) -> dict[str, str]:
    return on(desk, await sign_in(await make_staff(("support", desk.slug))))


async def add_account(
    runtime: Runtime,
    desk: TenantContext,
    login: str,
    *,
    status: str = "active",
    headroom_pct: str | None = None,
    rule: str | None = "daily_loss",
    stale: bool = False,
    evaluated_seq: int = 3,
) -> tuple[int, int]:
    """A trading account on phase 1 of a new challenge, with the engine's state: headroom
    ``headroom_pct`` percent of 100,000 to a floor of 95,000. Returns (account, challenge)."""
    async with runtime.db.unit_of_work(desk) as session:
        challenge = await open_challenge(
            session,
            runtime.queue,
            product_code=PRODUCT["code"],
            size="100k",
            addons=[],
            trader_email=f"{login}@traders.example",
            trader_name=f"Trader {login}",
            actor="test",
        )
        await apply_transition(session, runtime.queue, challenge.id, Paid(at=START), actor="test")
        await apply_transition(
            session,
            runtime.queue,
            challenge.id,
            Provisioned(at=START, account=f"mt5:{login}"),
            actor="test",
        )
        account = TradingAccount(
            challenge_id=challenge.id,
            phase=0,
            attempt=1,
            phase_code="phase1",
            platform="mt5",
            login=login,
            product_code=PRODUCT["code"],
            version_hash=VERSION,
            size="100k",
            addons=[],
            currency="USD",
            initial_balance=Decimal("100000.00"),
            opened_at=START,
        )
        session.add(account)
        await session.flush()
        headroom = Decimal(headroom_pct) * 1000 if headroom_pct is not None else None
        session.add(
            AccountState(
                account_id=account.id,
                evaluated_seq=evaluated_seq,
                evaluated_until=START + timedelta(hours=2),
                status=status,
                balance=Decimal("100000.00"),
                equity=Decimal(95000) + headroom if headroom is not None else None,
                nearest_rule=rule if headroom is not None else None,
                floor=Decimal("95000.00") if headroom is not None else None,
                headroom=headroom,
                headroom_pct=Decimal(headroom_pct) if headroom_pct is not None else None,
                stale=stale,
                version_hash=VERSION,
            )
        )
        return account.id, challenge.id


async def test_the_near_breach_list_is_trading_accounts_closest_to_a_floor_first(
    propdesk_runtime: Runtime,
    client: httpx.AsyncClient,
    make_staff: Any,
    sign_in: Any,
    desk: TenantContext,
) -> None:
    runtime = propdesk_runtime
    a, _ = await add_account(runtime, desk, "1001", headroom_pct="1.5")
    b, b_challenge = await add_account(runtime, desk, "1002", headroom_pct="0.4", status="paused")
    c, _ = await add_account(runtime, desk, "1003", headroom_pct="1.5", rule="max_loss", stale=True)
    d, _ = await add_account(runtime, desk, "1004", headroom_pct="3")
    # Decided accounts are no longer near anything, however low their equity ended.
    await add_account(runtime, desk, "1005", headroom_pct="0.1", status="failed")
    await add_account(runtime, desk, "1006", headroom_pct="0.2", status="passed")
    await add_account(runtime, desk, "1007", headroom_pct=None)
    headers = await reader(make_staff, sign_in, desk)

    default = await client.get(NEAR, headers=headers)
    assert default.status_code == 200, default.text
    assert [row["account_id"] for row in default.json()] == [b, a, c]
    first = default.json()[0]
    assert first == {
        "account_id": b,
        "platform": "mt5",
        "login": "1002",
        "challenge_id": b_challenge,
        "phase_code": "phase1",
        "status": "paused",
        "nearest_rule": "daily_loss",
        "floor": "95000.00",
        "equity": "95400.00",
        "headroom": "400.00",
        "headroom_pct": "0.400000",
        "stale": False,
        "evaluated_until": "2026-03-02T10:00:00Z",
    }
    assert default.json()[2]["stale"] is True

    async def ids(query: str) -> list[int]:
        response = await client.get(f"{NEAR}?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [row["account_id"] for row in response.json()]

    assert await ids("within=3") == [b, a, c, d]
    assert await ids("within=0.4") == [b]
    assert await ids("within=0") == []
    assert await ids("within=1e-99999") == []
    assert await ids("within=3&limit=2") == [b, a]
    assert await ids("within=3&rule=max_loss") == [c]


async def test_a_bad_parameter_is_refused_naming_it(
    client: httpx.AsyncClient, make_staff: Any, sign_in: Any, desk: TenantContext
) -> None:
    headers = await reader(make_staff, sign_in, desk)
    for query, name in [
        ("within=abc", "within"),
        ("within=-1", "within"),
        ("within=NaN", "within"),
        ("within=101", "within"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
    ]:
        response = await client.get(f"{NEAR}?{query}", headers=headers)
        assert response.status_code == 422, (query, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [name], query
    for query, name in [("open=maybe", "open"), ("kind=stail", "kind")]:
        response = await client.get(f"{ALERTS}?{query}", headers=headers)
        assert response.status_code == 422, (query, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [name], query


async def test_only_the_desks_own_staff_read_the_engine(
    propdesk_runtime: Runtime,
    client: httpx.AsyncClient,
    make_staff: Any,
    sign_in: Any,
    make_tenant: Any,
    desk: TenantContext,
) -> None:
    account, _ = await add_account(propdesk_runtime, desk, "2001", headroom_pct="1")
    timeline = f"/api/accounts/{account}/timeline"
    for path in (NEAR, ALERTS, timeline):
        anonymous = await client.get(path, headers={"X-Propdesk-Tenant": desk.slug})
        assert anonymous.status_code == 401, (path, anonymous.text)

    other = await make_tenant(f"vis{uuid.uuid4().hex[:8]}")
    stranger = on(desk, await sign_in(await make_staff(("support", other.slug))))
    for path in (NEAR, ALERTS, timeline):
        assert (await client.get(path, headers=stranger)).status_code == 403, path

    # Seen from the other desk (where the stranger may read), the account does not exist.
    theirs = on(other, await sign_in(await make_staff(("risk", other.slug))))
    assert (await client.get(NEAR, headers=theirs)).json() == []
    missing = await client.get(timeline, headers=theirs)
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"no trading account {account} on this desk"

    for role in ("support", "risk", "finance", "desk_admin"):
        headers = on(desk, await sign_in(await make_staff((role, desk.slug))))
        response = await client.get(NEAR, headers=headers)
        assert response.status_code == 200, role
        assert [row["account_id"] for row in response.json()] == [account]


async def test_a_failed_accounts_timeline_shows_its_days_floors_decision_and_alerts(
    propdesk_runtime: Runtime,
    client: httpx.AsyncClient,
    make_staff: Any,
    sign_in: Any,
    desk: TenantContext,
) -> None:
    runtime = propdesk_runtime
    account, challenge = await add_account(runtime, desk, "3001", status="failed")
    breach_at = START + timedelta(days=1, hours=3)
    explanation = "equity 94,900.00 fell below the daily-loss floor 95,500.00"
    async with runtime.db.unit_of_work(desk) as session:
        session.add_all(
            [
                AccountDay(
                    account_id=account,
                    day=date(2026, 3, 3),
                    start_balance=Decimal("100500.00"),
                    start_equity=Decimal("100500.00"),
                    min_equity=Decimal("94900.00"),
                    max_equity=Decimal("100600.00"),
                    close_balance=Decimal("99000.00"),
                    close_equity=Decimal("94900.00"),
                    daily_floor=Decimal("95500.00"),
                    max_loss_floor=Decimal("90000.00"),
                ),
                AccountDay(
                    account_id=account,
                    day=date(2026, 3, 2),
                    start_balance=Decimal("100000.00"),
                    start_equity=Decimal("100000.00"),
                    min_equity=Decimal("99100.00"),
                    max_equity=Decimal("100700.00"),
                    close_balance=Decimal("100500.00"),
                    close_equity=Decimal("100500.00"),
                    daily_floor=Decimal("95000.00"),
                    max_loss_floor=Decimal("90000.00"),
                ),
                AccountVerdict(
                    account_id=account,
                    challenge_id=challenge,
                    decided_at=breach_at,
                    event="breached",
                    rule="daily_loss",
                    explanation=explanation,
                    version_hash=VERSION,
                    input_sha256="ab" * 32,
                    evaluated_seq=3,
                    evaluated_until=breach_at,
                    verdict={
                        "status": "failed",
                        "objectives": [{"rule": "daily_loss", "status": "breached"}],
                    },
                ),
                DataQualityAlert(
                    account_id=account,
                    kind="gap",
                    opened_at=START + timedelta(hours=1),
                    closed_at=START + timedelta(hours=1, minutes=1),
                    detail="seq 2 missing for 30 s; went on without it",
                ),
                DataQualityAlert(
                    account_id=account,
                    kind="stale",
                    opened_at=START + timedelta(hours=5),
                    detail="no snapshot for 120 s",
                ),
            ]
        )
        await apply_transition(
            session,
            runtime.queue,
            challenge,
            Breached(at=breach_at, rule="daily_loss", explanation=explanation),
            actor="engine",
        )
    headers = await reader(make_staff, sign_in, desk)

    response = await client.get(f"/api/accounts/{account}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account"]["status"] == "failed"
    assert body["account"]["challenge_id"] == challenge
    assert (body["account"]["product_code"], body["account"]["version_hash"]) == (
        "vis-test",
        VERSION,
    )
    assert [
        (d["day"], d["min_equity"], d["daily_floor"], d["max_loss_floor"]) for d in body["days"]
    ] == [
        ("2026-03-02", "99100.00", "95000.00", "90000.00"),
        ("2026-03-03", "94900.00", "95500.00", "90000.00"),
    ]
    [decision] = body["decisions"]
    assert decision["event"] == "breached"
    assert decision["rule"] == "daily_loss"
    assert decision["decided_at"] == "2026-03-03T11:00:00Z"
    assert decision["input_sha256"] == "ab" * 32
    assert [(h["event"], h["to_status"]) for h in body["history"]][-3:] == [
        ("paid", "provisioning"),
        ("provisioned", "active"),
        ("breached", "failed"),
    ]
    assert [(a["kind"], a["open"]) for a in body["alerts"]] == [("stale", True), ("gap", False)]
    assert body["explanation"]["source"] == "decision"
    assert body["explanation"]["rule"] == "daily_loss"
    assert body["explanation"]["text"] == explanation
    assert body["explanation"]["objectives"] == [{"rule": "daily_loss", "status": "breached"}]

    open_only = await client.get(f"{ALERTS}?open=true", headers=headers)
    assert [a["kind"] for a in open_only.json()] == ["stale"]
    closed = await client.get(f"{ALERTS}?open=false&kind=gap", headers=headers)
    assert [(a["kind"], a["login"]) for a in closed.json()] == [("gap", "3001")]
    assert [a["kind"] for a in (await client.get(ALERTS, headers=headers)).json()] == [
        "stale",
        "gap",
    ]


async def test_an_undecided_account_is_explained_by_its_nearest_floor_and_journal_replays(
    propdesk_runtime: Runtime,
    client: httpx.AsyncClient,
    make_staff: Any,
    sign_in: Any,
    desk: TenantContext,
) -> None:
    runtime = propdesk_runtime
    account, _ = await add_account(runtime, desk, "4001", headroom_pct="1", evaluated_seq=2)
    events = [
        {"type": "account_opened", "time": "2026-03-02T08:00:00Z", "balance": "100000"},
        {
            "type": "snapshot",
            "time": "2026-03-02T10:00:00+01:00",
            "balance": "100000",
            "equity": "96000",
        },
        # Not evaluated yet (the engine stands at seq 2): not part of the export.
        {"type": "snapshot", "time": "2026-03-02T09:30:00Z", "balance": "1", "equity": "1"},
    ]
    async with runtime.db.unit_of_work(desk) as session:
        for seq, data in enumerate(events, start=1):
            event = parse_event(data)
            session.add(
                AccountEvent(
                    account_id=account,
                    seq=seq,
                    event_key=f"e{seq}",
                    type=event.type,
                    time=event.time,
                    body=canonical_json(canonical(event)),
                )
            )
    headers = await reader(make_staff, sign_in, desk)

    response = await client.get(f"/api/accounts/{account}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    explanation = response.json()["explanation"]
    assert explanation["source"] == "objectives"
    assert explanation["status"] == "active"
    assert explanation["rule"] == "daily_loss"
    assert explanation["nearest"] == {
        "rule": "daily_loss",
        "measure": "equity",
        "current": "96000.00",
        "floor": "95000.00",
        "headroom": "1000.00",
        "headroom_pct": "1.00",
    }
    assert explanation["text"].startswith(
        "Nearest to deciding: daily_loss, equity 96,000.00 is 1,000.00 above its floor "
        "95,000.00 (1.00% of the initial balance). Still to meet: profit_target (profit "
    )
    assert [o["rule"] for o in explanation["objectives"]] == [
        "daily_loss",
        "max_loss",
        "profit_target",
    ]

    journal = await client.get(f"/api/accounts/{account}/journal", headers=headers)
    assert journal.status_code == 200, journal.text
    assert journal.headers["content-type"].startswith("application/x-ndjson")
    assert journal.headers["x-propdesk-product"] == "vis-test"
    assert journal.headers["x-propdesk-product-version"] == "1"
    assert journal.headers["x-propdesk-version-hash"] == VERSION
    assert journal.headers["x-propdesk-phase"] == "phase1"
    assert journal.headers["x-propdesk-size"] == "100k"
    assert "x-propdesk-addons" not in journal.headers
    assert journal.headers["x-propdesk-until"] == "2026-03-02T10:00:00Z"
    assert journal.text.splitlines() == [
        '{"balance":"100000.00","time":"2026-03-02T08:00:00Z","type":"account_opened"}',
        '{"balance":"100000.00","equity":"96000.00","time":"2026-03-02T09:00:00Z",'
        '"type":"snapshot"}',
    ]

    # What support does with it: propdesk replay on these lines gives the same objectives.
    verdict = replay(
        PRODUCT,
        journal.headers["x-propdesk-phase"],
        list(read_events(journal.text.splitlines())),
        rule_families(runtime.host, desk),
        size=journal.headers["x-propdesk-size"],
        until=parse_time(journal.headers["x-propdesk-until"]),
    )
    assert verdict["objectives"] == explanation["objectives"]


def test_the_nearest_floor_is_the_least_headroom_among_limit_rules() -> None:
    objectives = [
        {"rule": "max_loss", "role": "limit", "status": "ok", "measure": "equity",
         "current": "96000.00", "floor": "90000.00", "headroom": "6000.00"},
        {"rule": "eod_loss", "role": "limit", "status": "ok", "measure": "balance",
         "current": "99000.00", "floor": "96500.00", "headroom": "2500.00"},
        {"rule": "lot_guard", "role": "guard", "status": "ok", "current": "99000.00",
         "floor": "98000.00", "headroom": "1000.00"},
        {"rule": "profit_target", "role": "target", "status": "not_met", "text": "10.00 to go"},
    ]  # fmt: skip
    nearest = nearest_floor(objectives, Decimal(100000))
    assert nearest is not None
    assert (nearest.rule, nearest.headroom, nearest.headroom_pct) == (
        "eod_loss",
        Decimal("2500.00"),
        Decimal("2.50"),
    )
    assert objectives_text(nearest, objectives) == (
        "Nearest to deciding: eod_loss, balance 99,000.00 is 2,500.00 above its floor "
        "96,500.00 (2.50% of the initial balance). Still to meet: profit_target (10.00 to go)."
    )
    assert nearest_floor(objectives[3:], Decimal(100000)) is None
    assert objectives_text(None, []) == "No loss floor applies to this account."
