"""The engine's fast decoding of journal bodies gives the event the strict parser gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from propdesk.engine.wire import decode
from propdesk.rules.clock import utc
from propdesk.rules.events import canonical, canonical_json, parse_event

times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
).map(lambda t: utc(t))
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=4).map(str)
texts = st.text(min_size=1, max_size=12)


def with_time(kind: str, **fields: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just(kind), "time": times, **fields})


events = st.one_of(
    with_time("account_opened", balance=amounts),
    with_time("snapshot", balance=amounts, equity=amounts),
    with_time("balance", amount=amounts, comment=st.text(max_size=12)),
    with_time(
        "deal",
        id=texts,
        position=texts,
        symbol=texts,
        side=st.sampled_from(["buy", "sell"]),
        entry=st.sampled_from(["in", "out"]),
        volume=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2).map(str),
        price=amounts,
        profit=amounts,
        commission=amounts,
        swap=amounts,
    ),
    with_time(
        "news",
        at=times,
        title=texts,
        symbols=st.lists(texts, min_size=1, max_size=3),
        impact=st.sampled_from(["high", "medium", ""]),
    ),
    with_time("clock"),
    with_time(
        "operator",
        action=st.just("reinstate"),
        actor=texts,
        reason=st.text(max_size=20),
    ),
    with_time(
        "operator",
        action=st.just("extend"),
        days=st.integers(min_value=1, max_value=400),
        actor=texts,
        reason=st.text(max_size=20),
    ),
)


@given(events)
def test_decoding_a_canonical_body_gives_the_parsed_event(data: dict[str, Any]) -> None:
    event = parse_event(data)
    body = canonical_json(canonical(event)).encode()
    decoded = decode(body)
    assert decoded == event
    assert type(decoded) is type(event)
    assert canonical_json(canonical(decoded)).encode() == body  # and back, byte for byte


def test_an_instant_with_microseconds_survives() -> None:
    at = datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC) + timedelta(microseconds=1)
    data = {"type": "snapshot", "time": utc(at), "balance": "1.5", "equity": "-2"}
    assert decode(canonical_json(canonical(parse_event(data))).encode()).time == at
