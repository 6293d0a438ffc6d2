"""The inputs of an evaluation: an account's events, parsed strictly and written canonically.

One JSON object per event, times ISO-8601 with an offset, amounts as decimal strings::

    {"type":"account_opened","time":…,"balance":"100000"}
    {"type":"deal","time":…,"id":…,"position":…,"symbol":…,"side":"buy|sell","entry":"in|out",
     "volume":…,"price":…,"profit":…,"commission":…,"swap":…}
    {"type":"snapshot","time":…,"balance":…,"equity":…}
    {"type":"balance","time":…,"amount":…,"comment":…}
    {"type":"news","time":…,"at":…,"title":…,"symbols":[…],"impact":"high"}
    {"type":"clock","time":…}
    {"type":"operator","time":…,"action":"reinstate|extend","days":N,"actor":…,"reason":…}

``news`` is a calendar entry known at ``time`` for a release at ``at`` (calendars are
published ahead, so a window can open before the release).

``clock`` and ``operator`` are made by the engine, not the platform: a clock event is time
passing with no trade (a day boundary, a deadline: everything due up to it is decided), an
operator event a person's action on the evaluation (``days`` only with ``extend``). The journal
keeps them between the source events so a replay decides exactly what the engine decided.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from propdesk.rules.clock import utc
from propdesk.rules.money import parse_decimal, plain

if TYPE_CHECKING:
    from propdesk.rules.calendar import CalendarRelease


class EventError(ValueError):
    """An event that cannot be evaluated; ``line`` is 1-based when it came from a file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class AccountOpened:
    time: datetime
    balance: Decimal
    type = "account_opened"


@dataclass(frozen=True, slots=True)
class Deal:
    time: datetime
    id: str
    position: str
    symbol: str
    side: str
    entry: str
    volume: Decimal
    price: Decimal
    profit: Decimal
    commission: Decimal
    swap: Decimal
    type = "deal"

    @property
    def net(self) -> Decimal:
        """What the deal did to the balance: profit plus commission plus swap."""
        return self.profit + self.commission + self.swap


@dataclass(frozen=True, slots=True)
class Snapshot:
    time: datetime
    balance: Decimal
    equity: Decimal
    type = "snapshot"


@dataclass(frozen=True, slots=True)
class BalanceOperation:
    time: datetime
    amount: Decimal
    comment: str
    type = "balance"


@dataclass(frozen=True, slots=True)
class News:
    time: datetime
    at: datetime
    title: str
    symbols: tuple[str, ...]
    impact: str
    type = "news"


def news_from_release(release: CalendarRelease, known_at: datetime) -> News:
    """The ``news`` event of a calendar release the engine learned of at ``known_at``."""
    return News(known_at, release.at, release.title, release.symbols, release.impact)


@dataclass(frozen=True, slots=True)
class Clock:
    time: datetime
    type = "clock"


@dataclass(frozen=True, slots=True)
class Operator:
    time: datetime
    action: str
    actor: str
    reason: str = ""
    #: Calendar days an ``extend`` adds (``None`` for ``reinstate``).
    days: int | None = None
    type = "operator"


OPERATOR_ACTIONS = ("reinstate", "extend")

Event = AccountOpened | Deal | Snapshot | BalanceOperation | News | Clock | Operator

_FIELDS: dict[str, dict[str, str]] = {
    "account_opened": {"balance": "decimal"},
    "deal": {
        "id": "text",
        "position": "text",
        "symbol": "text",
        "side": "side",
        "entry": "entry",
        "volume": "decimal",
        "price": "decimal",
        "profit": "decimal",
        "commission": "decimal?",
        "swap": "decimal?",
    },
    "snapshot": {"balance": "decimal", "equity": "decimal"},
    "balance": {"amount": "decimal", "comment": "text?"},
    "news": {"at": "time", "title": "text", "symbols": "symbols", "impact": "text?"},
    "clock": {},
    "operator": {"action": "action", "days": "days?", "actor": "text", "reason": "text?"},
}
_CLASSES: dict[str, type] = {
    "account_opened": AccountOpened,
    "deal": Deal,
    "snapshot": Snapshot,
    "balance": BalanceOperation,
    "news": News,
    "clock": Clock,
    "operator": Operator,
}
_DEFAULTS: dict[str, object] = {"decimal?": Decimal(0), "text?": "", "days?": None}


def parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO-8601 time")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset (write e.g. 2026-03-02T09:30:00+01:00)")
    # One timezone for every instant: comparisons stay cheap and output stays canonical.
    return parsed.astimezone(UTC)


def _convert(kind: str, value: object) -> object:
    if kind.startswith("decimal"):
        return parse_decimal(value)
    if kind == "time":
        return parse_time(value)
    if kind == "symbols":
        if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
            raise ValueError("must be a list of symbol names")
        return tuple(sorted(set(value)))
    if kind == "side":
        if value not in ("buy", "sell"):
            raise ValueError(f"{value!r} is not buy or sell")
        return value
    if kind == "action":
        if value not in OPERATOR_ACTIONS:
            raise ValueError(f"{value!r} is not reinstate or extend")
        return value
    if kind == "days?":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{value!r} is not a whole number of days (1 or more)")
        return value
    if kind == "entry":
        if value not in ("in", "out"):
            raise ValueError(f"{value!r} is not in or out")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or (not value and not kind.endswith("?")):
        raise ValueError(f"{value!r} is not a non-empty string")
    return value


def parse_event(data: object, line: int | None = None) -> Event:
    """One event from its JSON object; anything unexpected is an ``EventError``."""
    if not isinstance(data, dict):
        raise EventError("an event must be a JSON object", line)
    kind = data.get("type")
    if kind not in _FIELDS:
        known = ", ".join(sorted(_FIELDS))
        raise EventError(f"unknown event type {kind!r} (known: {known})", line)
    fields = _FIELDS[kind]
    unknown = sorted(set(data) - set(fields) - {"type", "time"})
    if unknown:
        raise EventError(f"{kind}: unknown field(s) {', '.join(unknown)}", line)
    values: dict[str, Any] = {}
    try:
        values["time"] = parse_time(data.get("time"))
    except ValueError as exc:
        raise EventError(f"{kind}: field 'time': {exc}", line) from None
    for name, field_kind in fields.items():
        if name not in data:
            if field_kind in _DEFAULTS:
                values[name] = _DEFAULTS[field_kind]
                continue
            raise EventError(f"{kind}: missing field '{name}'", line)
        try:
            values[name] = _convert(field_kind, data[name])
        except ValueError as exc:
            raise EventError(f"{kind}: field '{name}': {exc}", line) from None
    if kind == "deal" and values["volume"] <= 0:
        raise EventError("deal: field 'volume' must be positive", line)
    if kind == "operator":
        if values["action"] == "extend" and values["days"] is None:
            raise EventError("operator: field 'days' is required to extend", line)
        if values["action"] != "extend" and values["days"] is not None:
            raise EventError("operator: field 'days' only goes with extend", line)
    event: Event = _CLASSES[kind](**values)
    return event


def read_events(lines: Iterable[str]) -> Iterator[Event]:
    """Events from JSON lines, in order; time must never go backwards."""
    last: datetime | None = None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EventError(f"not valid JSON: {exc.msg} (column {exc.colno})", number) from None
        event = parse_event(data, number)
        if last is not None and event.time < last:
            raise EventError(
                f"time goes backwards: {utc(event.time)} is before {utc(last)}", number
            )
        last = event.time
        yield event


def canonical(event: Event) -> dict[str, Any]:
    """The event as plain JSON values: UTC times, canonical decimals."""
    out: dict[str, Any] = {"type": event.type}
    for name in ("time", *_FIELDS[event.type]):
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = utc(value)
        elif isinstance(value, Decimal):
            value = plain(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif value is None:
            continue  # an optional field without a value is left out (operator ``days``)
        out[name] = value
    return out


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
