"""The platform contract's values and errors: Decimal money, UTC times, typed vendor errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from propdesk.errors import PropdeskError
from propdesk.platforms import (
    MAX_REFERENCE_LENGTH,
    AccountNotFound,
    AccountSpec,
    AccountState,
    BalanceResult,
    EventBatch,
    OpenedAccount,
    PlatformAdapter,
    PlatformError,
    Position,
    Refused,
    TemporarilyUnavailable,
    check_reference,
)
from propdesk.plugins import components
from propdesk.rules.events import AccountOpened, Snapshot

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NAIVE = datetime(2026, 3, 2, 12, 0)
SERVER_TIME = timezone(timedelta(hours=2))  # a broker's GMT+2 trade server


def spec(**changes: Any) -> AccountSpec:
    values: dict[str, Any] = {
        "reference": "acc-1",
        "group": "demo\\challenge-100k",
        "leverage": 100,
        "initial_balance": Decimal("100000"),
        "currency": "USD",
        "trader_name": "Ada Trader",
        "trader_email": "ada@example.com",
    }
    return AccountSpec(**{**values, **changes})


def test_components_platform_adapter_is_the_contract() -> None:
    assert components.PlatformAdapter is PlatformAdapter
    assert components.KINDS["propdesk_register_platforms"] is PlatformAdapter
    for method in (
        "create_account",
        "deposit",
        "withdraw",
        "disable_trading",
        "enable_trading",
        "close_all_positions",
        "account_state",
        "events",
        "close",
    ):
        doc = getattr(PlatformAdapter, method).__doc__ or ""
        assert "Called" in doc, f"{method}: say when it is called"


def test_every_method_that_moves_money_documents_its_idempotency() -> None:
    for method in ("create_account", "deposit", "withdraw"):
        doc = getattr(PlatformAdapter, method).__doc__ or ""
        assert "Idempotent by" in doc and "reference" in doc
    assert "history" in (PlatformAdapter.deposit.__doc__ or "")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"initial_balance": 100000.0}, "finite Decimal"),
        ({"initial_balance": Decimal(0)}, "positive"),
        ({"leverage": 0}, "at least 1"),
        ({"leverage": True}, "must be an int"),
        ({"currency": "usd"}, "ISO 4217"),
        ({"group": ""}, "platform group"),
        ({"reference": "has space"}, "only"),
        ({"reference": "x" * (MAX_REFERENCE_LENGTH + 1)}, "at most 24"),
    ],
)
def test_account_spec_refuses_what_no_platform_can_take(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        spec(**changes)


def test_references_fit_every_platforms_comment() -> None:
    assert check_reference("ord:7f3a9c12-dep") == "ord:7f3a9c12-dep"
    # "pd:" plus a 24-character reference still fits MT4's and MT5's 31-character comments
    assert len("pd:") + MAX_REFERENCE_LENGTH <= 31
    with pytest.raises(ValueError, match="start with a letter or digit"):
        check_reference(":leading")


def test_the_password_never_shows_in_a_repr() -> None:
    opened = OpenedAccount("100001", "S3cret!pass", "Propdesk-Demo")
    assert "S3cret" not in repr(opened)
    assert opened.password == "S3cret!pass"


def test_times_are_converted_to_utc_and_naive_times_refused() -> None:
    server_noon = datetime(2026, 3, 2, 14, 0, tzinfo=SERVER_TIME)
    state = AccountState(
        "1", Decimal(100), Decimal(90), Decimal(5), Decimal(85), (), True, server_noon
    )
    assert state.as_of == NOON and state.as_of.tzinfo is UTC
    assert state.floating == Decimal(-10)
    assert state.snapshot() == Snapshot(NOON, Decimal(100), Decimal(90))
    with pytest.raises(ValueError, match="aware datetime"):
        AccountState("1", Decimal(1), Decimal(1), Decimal(0), Decimal(1), (), True, NAIVE)
    result = BalanceResult("1", "dep-1", Decimal(5), "D1", server_noon)
    assert result.time == NOON and not result.already_applied
    position = Position(
        "P1", "EURUSD", "buy", Decimal(1), Decimal("1.1"), Decimal("1.2"), Decimal(9),
        Decimal(-1), server_noon,
    )  # fmt: skip
    assert position.opened_at == NOON and position.floating == Decimal(8)


def test_money_is_decimal_never_float() -> None:
    with pytest.raises(TypeError, match="balance must be a finite Decimal"):
        AccountState("1", 100.0, Decimal(1), Decimal(0), Decimal(1), (), True, NOON)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="amount"):
        BalanceResult("1", "dep-1", 5, "D1", NOON)  # type: ignore[arg-type]


def test_an_event_batch_is_in_utc_time_order() -> None:
    opened = AccountOpened(NOON, Decimal(100))
    later = Snapshot(NOON + timedelta(seconds=1), Decimal(100), Decimal(99))
    assert EventBatch([opened, later], "c").events == (opened, later)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="back in time"):
        EventBatch((later, opened), "c")
    local = AccountOpened(NOON.astimezone(SERVER_TIME), Decimal(100))
    with pytest.raises(ValueError, match="not in UTC"):
        EventBatch((local,), "c")


def test_errors_are_typed_and_keep_the_vendors_code() -> None:
    gone = AccountNotFound("no account 42", vendor_code="13")
    busy = TemporarilyUnavailable("too frequent", vendor_code="12", retry_after=1.5)
    refused = Refused("not enough money", vendor_code="10019")
    for error in (gone, busy, refused):
        assert isinstance(error, PlatformError) and isinstance(error, PropdeskError)
    assert (gone.status, busy.status, refused.status) == (404, 503, 409)
    assert busy.retry_after == 1.5
    assert refused.vendor_code == "10019"
    assert refused.problem_extra == {"platform_code": "10019"}
    assert PlatformError("odd").problem_extra == {}
    assert str(refused) == "not enough money"


@pytest.mark.parametrize("length", [8, 12, 16])
def test_trader_passwords_meet_the_strictest_platform_rule(length: int) -> None:
    from propdesk.platforms.passwords import SPECIALS, trader_password

    made = {trader_password(length) for _ in range(50)}
    assert len(made) == 50, "random, not repeated"
    for password in made:
        assert len(password) == length
        assert any(c.islower() for c in password) and any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password) and any(c in SPECIALS for c in password)
    with pytest.raises(ValueError, match="8 to 16"):
        trader_password(7)
