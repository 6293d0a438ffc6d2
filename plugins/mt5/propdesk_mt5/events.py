"""MT5 deals and readings as the engine's events, and the polling cursor. Pure: no I/O.

The Web API has no push channel: the adapter polls ``deal/get_batch`` over a window that
reaches back ``OVERLAP_MS`` before the last deal it handed over, and drops the deals it already
handed over by ticket. The cursor remembers those tickets (only the ones inside the overlap),
so a deal the server makes visible a little late is neither lost nor repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from propdesk.platforms.contract import PlatformEvent
from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Snapshot
from propdesk_mt5.protocol import (
    BALANCE_ACTIONS,
    VOLUME_EXT_PER_LOT,
    DealAction,
    DealEntry,
    ServerTime,
    to_lots,
)

#: How far back each poll looks before the last deal handed over (server milliseconds).
OVERLAP_MS = 10_000
CURSOR_VERSION = 1


@dataclass(frozen=True)
class Cursor:
    """Where an account's event stream stands (serialised with ``dump``, read with ``load``)."""

    login: str
    #: ``account_opened`` was handed over.
    opened: bool = False
    #: Server time (ms) of the newest deal handed over.
    deal_msc: int = 0
    #: Tickets handed over with a time within ``OVERLAP_MS`` of ``deal_msc``.
    seen: frozenset[str] = field(default_factory=frozenset)
    #: UTC ms of the last event handed over: times never go back.
    last_msc: int = 0
    #: The last snapshot handed over: UTC ms, balance, equity.
    snapshot: tuple[int, str, str] | None = None

    def dump(self) -> str:
        return json.dumps(
            {
                "v": CURSOR_VERSION,
                "login": self.login,
                "opened": self.opened,
                "deal_msc": self.deal_msc,
                "seen": sorted(self.seen, key=int),
                "last_msc": self.last_msc,
                "snapshot": list(self.snapshot) if self.snapshot else None,
            },
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str | None, login: str) -> Cursor:
        """The cursor ``text`` of ``login`` (a fresh one for ``None``); ``ValueError`` if it is
        not a cursor this adapter issued for that login."""
        if text is None:
            return cls(login)
        try:
            data = json.loads(text)
            if data["v"] != CURSOR_VERSION or str(data["login"]) != login:
                raise ValueError
            snapshot = data["snapshot"]
            return cls(
                login,
                bool(data["opened"]),
                int(data["deal_msc"]),
                frozenset(str(t) for t in data["seen"]),
                int(data["last_msc"]),
                (int(snapshot[0]), str(snapshot[1]), str(snapshot[2])) if snapshot else None,
            )
        except (ValueError, KeyError, TypeError, IndexError):
            raise ValueError(f"cursor {text!r} was not issued for MT5 account {login}") from None


def _msc(deal: dict[str, Any]) -> int:
    msc = deal.get("TimeMsc")
    return int(msc) if msc not in (None, "", "0") else int(deal["Time"]) * 1000


def _utc_ms(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))


def _from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def new_deals(deals: list[dict[str, Any]], cursor: Cursor) -> list[dict[str, Any]]:
    """The deals not handed over yet, oldest first (by server time, then ticket)."""
    floor = cursor.deal_msc - OVERLAP_MS
    fresh = [
        d
        for d in deals
        if str(d["Deal"]) not in cursor.seen and (not cursor.opened or _msc(d) >= floor)
    ]
    return sorted(fresh, key=lambda d: (_msc(d), int(d["Deal"])))


def opening_deposit(deals: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The account's first deposit: the balance its evaluation starts from."""
    for deal in deals:
        if int(deal["Action"]) == DealAction.BALANCE and Decimal(str(deal["Profit"])) > 0:
            return deal
    return None


def _lots(deal: dict[str, Any], name: str = "Volume") -> Decimal:
    ext = deal.get(f"{name}Ext")
    if ext not in (None, "", "0"):
        return Decimal(str(ext)) / VOLUME_EXT_PER_LOT
    return to_lots(deal.get(name) or 0)


def convert(deal: dict[str, Any], at: datetime) -> list[PlatformEvent]:
    """One MT5 deal as engine events at ``at`` (a reversal is a close and an open; credit and
    cancelled deals do not touch the balance and make none)."""
    action = int(deal["Action"])
    money = {k: Decimal(str(deal.get(k) or 0)) for k in ("Profit", "Commission", "Storage")}
    if action in BALANCE_ACTIONS:
        return [BalanceOperation(at, money["Profit"], str(deal.get("Comment") or ""))]
    if action not in (DealAction.BUY, DealAction.SELL):
        return []
    entry = int(deal["Entry"])
    ticket = str(deal["Deal"])

    def part(id_: str, kind: str, volume: Decimal, with_money: bool) -> Deal:
        zero = Decimal(0)
        return Deal(
            time=at,
            id=id_,
            position=str(deal.get("PositionID") or ticket),
            symbol=str(deal["Symbol"]),
            side="buy" if action == DealAction.BUY else "sell",
            entry=kind,
            volume=volume,
            price=Decimal(str(deal["Price"])),
            profit=money["Profit"] if with_money else zero,
            commission=money["Commission"] if with_money else zero,
            swap=money["Storage"] if with_money else zero,
        )

    if entry == DealEntry.INOUT:
        closed = _lots(deal, "VolumeClosed")
        return [
            part(ticket, "out", closed, True),
            part(f"{ticket}:in", "in", _lots(deal) - closed, False),
        ]
    return [part(ticket, "in" if entry == DealEntry.IN else "out", _lots(deal), True)]


@dataclass(frozen=True)
class Reading:
    """Balance and equity read from the server at ``at`` (UTC), before the deals were."""

    at: datetime
    balance: Decimal
    equity: Decimal


def build_batch(
    cursor: Cursor,
    deals: list[dict[str, Any]],
    reading: Reading,
    clock: ServerTime,
    *,
    limit: int,
    heartbeat: timedelta,
) -> tuple[list[PlatformEvent], Cursor, bool]:
    """The events after ``cursor`` from ``deals`` (the window the adapter fetched) and a
    reading; the new cursor; whether more deals wait (then no snapshot: it would come before
    deals it already counts)."""
    events: list[PlatformEvent] = []
    fresh = new_deals(deals, cursor)
    if not cursor.opened:
        deposit = opening_deposit(fresh)
        if deposit is None:
            return [], cursor, False  # created but not funded yet
        at = clock.to_utc(_msc(deposit) / 1000)
        events.append(AccountOpened(at, Decimal(str(deposit["Profit"]))))
        cursor = _advance(cursor, deposit, _utc_ms(at), opened=True)
        fresh = [d for d in fresh if d is not deposit and _msc(d) >= _msc(deposit)]
    more = len(fresh) > limit
    read_ms = _utc_ms(reading.at)
    snapshot_due = not more and _snapshot_due(cursor, reading, heartbeat)
    for deal in fresh[:limit]:
        deal_ms = _utc_ms(clock.to_utc(_msc(deal) / 1000))
        if snapshot_due and deal_ms > read_ms:
            # The reading predates this deal: the snapshot goes before it.
            events.append(_snapshot(cursor, reading))
            cursor = _snapped(cursor, reading)
            snapshot_due = False
        at_ms = max(deal_ms, cursor.last_msc)  # a late deal never moves time back
        events.extend(convert(deal, _from_ms(at_ms)))
        cursor = _advance(cursor, deal, at_ms)
    if snapshot_due:
        events.append(_snapshot(cursor, reading))
        cursor = _snapped(cursor, reading)
    return events, cursor, more


def _advance(cursor: Cursor, deal: dict[str, Any], at_ms: int, *, opened: bool = True) -> Cursor:
    deal_msc = max(cursor.deal_msc, _msc(deal))
    seen = set(cursor.seen) | {str(deal["Deal"])}
    return replace(
        cursor,
        opened=opened or cursor.opened,
        deal_msc=deal_msc,
        seen=frozenset(seen),
        last_msc=max(cursor.last_msc, at_ms),
    )


def prune(cursor: Cursor, deals: list[dict[str, Any]]) -> Cursor:
    """Forget tickets older than the overlap: the next window does not reach them."""
    floor = cursor.deal_msc - OVERLAP_MS
    keep = {str(d["Deal"]) for d in deals if _msc(d) >= floor}
    return replace(cursor, seen=frozenset(t for t in cursor.seen if t in keep))


def _snapshot_due(cursor: Cursor, reading: Reading, heartbeat: timedelta) -> bool:
    if cursor.snapshot is None:
        return True
    at_ms, balance, equity = cursor.snapshot
    changed = (Decimal(balance), Decimal(equity)) != (reading.balance, reading.equity)
    return changed or _utc_ms(reading.at) - at_ms >= heartbeat / timedelta(milliseconds=1)


def _snapshot(cursor: Cursor, reading: Reading) -> Snapshot:
    at_ms = max(_utc_ms(reading.at), cursor.last_msc)
    return Snapshot(_from_ms(at_ms), reading.balance, reading.equity)


def _snapped(cursor: Cursor, reading: Reading) -> Cursor:
    at_ms = max(_utc_ms(reading.at), cursor.last_msc)
    return replace(
        cursor,
        last_msc=at_ms,
        snapshot=(at_ms, str(reading.balance), str(reading.equity)),
    )
