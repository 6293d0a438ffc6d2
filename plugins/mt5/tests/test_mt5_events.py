"""MT5 deals become the engine's events once each, in time order, whatever the poll windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Snapshot
from propdesk_mt5.events import OVERLAP_MS, Cursor, Reading, build_batch, convert, prune
from propdesk_mt5.protocol import ServerTime

CLOCK = ServerTime("+02:00")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HEARTBEAT = timedelta(seconds=30)


def server_ms(at: datetime) -> int:
    return CLOCK.from_utc_msc(at)


def deal(ticket: int, at: datetime, action: int, **fields: Any) -> dict[str, Any]:
    record = {
        "Deal": str(ticket),
        "Action": str(action),
        "Entry": "0",
        "Time": str(server_ms(at) // 1000),
        "TimeMsc": str(server_ms(at)),
        "Symbol": "",
        "Price": "0",
        "Volume": "0",
        "Profit": "0.00",
        "Commission": "0.00",
        "Storage": "0.00",
        "Comment": "",
        "PositionID": "0",
    }
    record.update({k: str(v) for k, v in fields.items()})
    return record


def trade(ticket: int, at: datetime, *, buy: bool, entry: int, **fields: Any) -> dict[str, Any]:
    values = {"Symbol": "EURUSD", "Price": "1.10000", "Volume": "10000", "PositionID": "77"}
    return deal(ticket, at, 0 if buy else 1, Entry=entry, **{**values, **fields})


def reading(at: datetime, balance: str = "100000", equity: str = "100000") -> Reading:
    return Reading(at, Decimal(balance), Decimal(equity))


def batch(cursor: Cursor, deals: list[dict[str, Any]], read: Reading, limit: int = 500) -> Any:
    events, after, more = build_batch(cursor, deals, read, CLOCK, limit=limit, heartbeat=HEARTBEAT)
    return events, prune(after, deals), more


def test_server_time_is_converted_to_utc() -> None:
    deposit = deal(1, START, 2, Profit="100000.00", Comment="pd:c1p0a1")
    assert int(deposit["Time"]) - int(START.timestamp()) == 7200
    events, _, _ = batch(Cursor("5001"), [deposit], reading(START + timedelta(seconds=1)))
    assert events[0] == AccountOpened(START, Decimal("100000.00"))


def test_the_first_deposit_opens_the_stream_and_is_not_a_balance_event() -> None:
    deposit = deal(1, START, 2, Profit="100000.00", Comment="pd:c1p0a1")
    events, cursor, more = batch(Cursor("5001"), [deposit], reading(START + timedelta(seconds=1)))
    assert [type(e) for e in events] == [AccountOpened, Snapshot]
    assert not more and cursor.opened
    # An unfunded account has nothing to say yet.
    assert batch(Cursor("5002"), [], reading(START))[0] == []


def test_deals_before_the_reading_come_before_its_snapshot_and_later_ones_after() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    opened_ = trade(2, START + timedelta(seconds=5), buy=True, entry=0)
    closed = trade(3, START + timedelta(seconds=20), buy=False, entry=1, Profit="-50.00")
    events, _, _ = batch(
        Cursor("5001"), [deposit, opened_, closed], reading(START + timedelta(seconds=10))
    )
    kinds = [(type(e).__name__, getattr(e, "entry", None)) for e in events]
    assert kinds == [
        ("AccountOpened", None),
        ("Deal", "in"),
        ("Snapshot", None),
        ("Deal", "out"),
    ]
    times = [e.time for e in events]
    assert times == sorted(times)


def test_overlapping_windows_hand_each_deal_over_once() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    deals = [deposit] + [
        trade(10 + i, START + timedelta(seconds=i), buy=i % 2 == 0, entry=i % 2)
        for i in range(1, 9)
    ]
    handed: list[str] = []
    cursor = Cursor("5001")
    # Polls see growing prefixes of the history, with windows overlapping the last deal.
    for visible in (2, 5, 5, 9):
        events, cursor, _ = batch(cursor, deals[:visible], reading(START + timedelta(minutes=1)))
        handed += [e.id for e in events if isinstance(e, Deal)]
    assert handed == [str(10 + i) for i in range(1, 9)]


def test_a_deal_made_visible_late_within_the_overlap_is_not_lost() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    late = trade(5, START + timedelta(seconds=3), buy=True, entry=0)
    newer = trade(6, START + timedelta(seconds=4), buy=True, entry=0)
    events, cursor, _ = batch(
        Cursor("5001"), [deposit, newer], reading(START + timedelta(seconds=5))
    )
    assert [e.id for e in events if isinstance(e, Deal)] == ["6"]
    events, cursor, _ = batch(cursor, [deposit, late, newer], reading(START + timedelta(seconds=6)))
    found = [e for e in events if isinstance(e, Deal)]
    assert [e.id for e in found] == ["5"]
    # Its time is held back to what was handed over already: time never goes back.
    assert found[0].time >= START + timedelta(seconds=4)


def test_the_cursor_round_trips_and_refuses_another_account() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    _, cursor, _ = batch(Cursor("5001"), [deposit], reading(START))
    assert Cursor.load(cursor.dump(), "5001") == cursor
    with pytest.raises(ValueError, match="5002"):
        Cursor.load(cursor.dump(), "5002")
    with pytest.raises(ValueError):
        Cursor.load("garbage", "5001")


def test_the_cursor_keeps_only_tickets_inside_the_overlap() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    old = trade(2, START + timedelta(seconds=1), buy=True, entry=0)
    recent = trade(3, START + timedelta(milliseconds=2000 + OVERLAP_MS), buy=True, entry=0)
    _, cursor, _ = batch(Cursor("5001"), [deposit, old, recent], reading(START))
    assert cursor.seen == {"3"}


def test_a_limit_leaves_the_rest_for_the_next_call_without_a_snapshot() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    trades = [trade(10 + i, START + timedelta(seconds=i + 1), buy=True, entry=0) for i in range(5)]
    events, cursor, more = batch(Cursor("5001"), [deposit, *trades], reading(START), limit=3)
    assert more and not any(isinstance(e, Snapshot) for e in events)
    events, cursor, more = batch(cursor, [deposit, *trades], reading(START), limit=3)
    assert [e.id for e in events if isinstance(e, Deal)] == ["13", "14"] and not more


def test_snapshots_only_when_money_moved_or_the_heartbeat_is_due() -> None:
    deposit = deal(1, START, 2, Profit="100000.00")
    _, cursor, _ = batch(Cursor("5001"), [deposit], reading(START))
    assert batch(cursor, [deposit], reading(START + timedelta(seconds=5)))[0] == []
    moved = batch(cursor, [deposit], reading(START + timedelta(seconds=5), equity="99500"))[0]
    assert moved == [Snapshot(START + timedelta(seconds=5), Decimal(100000), Decimal(99500))]
    beat = batch(cursor, [deposit], reading(START + timedelta(seconds=31)))[0]
    assert [type(e) for e in beat] == [Snapshot]


def test_balance_operations_credit_and_reversals() -> None:
    at = START
    assert convert(deal(2, at, 2, Profit="-500.00", Comment="pd:w1"), at) == [
        BalanceOperation(at, Decimal("-500.00"), "pd:w1")
    ]
    assert convert(deal(3, at, 3, Profit="1000.00"), at) == []  # credit: not the balance
    reversal = trade(
        4, at, buy=False, entry=2, Volume="30000", VolumeClosed="10000", Profit="25.00"
    )
    out, into = convert(reversal, at)
    assert (out.entry, out.volume, out.profit) == ("out", Decimal(1), Decimal("25.00"))
    assert (into.entry, into.volume, into.id) == ("in", Decimal(2), "4:in")
