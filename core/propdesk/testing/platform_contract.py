"""The platform contract suite: what every platform adapter must pass, ours and vendors' alike.

A vendor runs it against its own platform or its simulator. Subclass ``PlatformContract`` in a
test module (a ``Test*`` name, so pytest collects the inherited tests) and provide one async
fixture, ``harness``, returning a ``PlatformHarness``: the adapter under test and the powers
the suite needs on the platform's side (trade as the trader, move a price, read the platform's
own truth, make the next call fail or lose its answer)::

    import pytest
    from propdesk.testing.platform_contract import PlatformContract

    class TestMyPlatform(PlatformContract):
        @pytest.fixture
        async def harness(self, my_simulator):
            return MyHarness(my_simulator)

The harness is made for each test and closed by the suite (``aclose``) after it. The platform
behind it may serve every test (a session-scoped simulator): each test opens its own accounts
under fresh references. With pytest-asyncio in strict mode, declare the fixture with
``pytest_asyncio.fixture``.

The suite checks what ``propdesk.platforms.contract`` promises, not how a platform computes: it
compares the adapter's readings with the platform's (``balance``, ``trading_enabled``) and with
each other, and asserts signs and relations of results, never amounts a platform works out.
Where the contract lets an adapter recover by itself (retry after a failure, find an operation
whose answer was lost), a call under a fault may raise ``TemporarilyUnavailable`` or return.

``RecordingHarness`` runs the suite against ``propdesk.testing.platform.RecordingPlatform``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

import pytest
import pytest_asyncio

from propdesk.platforms.contract import (
    AccountNotFound,
    AccountSpec,
    EventBatch,
    PlatformAdapter,
    PlatformEvent,
    Refused,
    TemporarilyUnavailable,
    check_reference,
)
from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Snapshot
from propdesk.testing.platform import RecordingPlatform

T = TypeVar("T")
Side = Literal["buy", "sell"]

#: What ``PlatformHarness.spec`` funds an account with unless told otherwise.
INITIAL_BALANCE = Decimal("100000")
#: A login no platform hands out during a test.
UNKNOWN_LOGIN = "999999999"
#: Batches one drain may take before the suite decides ``more`` never ends.
MAX_BATCHES = 1000


class PlatformHarness(Protocol):
    """The platform side of the suite: the adapter under test, and what the trader and the
    platform's operator can do that the adapter cannot (or must not be trusted to) do.

    The read-only properties may be plain attributes. Every method acts on the platform
    directly, never through ``adapter``, so the suite can check the adapter against it.
    """

    @property
    def adapter(self) -> PlatformAdapter:
        """The adapter under test, connected to this platform."""
        ...

    @property
    def unknown_group(self) -> str:
        """A group the platform refuses to create accounts in."""
        ...

    @property
    def symbol(self) -> str:
        """A symbol the accounts of ``spec`` may trade."""
        ...

    @property
    def price(self) -> Decimal:
        """A sensible price of ``symbol``, to the symbol's digits (``1.10000``); the symbol is
        quoted at it when the harness starts."""
        ...

    def spec(self, reference: str, *, initial_balance: Decimal = INITIAL_BALANCE) -> AccountSpec:
        """A valid account spec under ``reference``: a group the platform knows, leverage 100,
        USD."""
        ...

    async def set_price(self, symbol: str, price: Decimal) -> None:
        """Quote ``symbol`` at ``price`` from now on: positions are valued and closed at it."""
        ...

    async def open_position(self, login: str, side: Side, volume: Decimal) -> str:
        """The trader opens a market position of ``volume`` lots on ``symbol``.

        :returns: The position's id, as ``account_state`` and the deals name it.
        :raises Refused: the platform refused the order (trading disabled).
        """
        ...

    async def close_position(self, login: str, position_id: str) -> None:
        """The trader closes the position at market.

        :raises Refused: the platform refused the order (trading disabled).
        """
        ...

    async def trading_enabled(self, login: str) -> bool:
        """Whether the platform lets the trader trade, read on the platform."""
        ...

    async def balance(self, login: str) -> Decimal:
        """The account's balance as the platform holds it."""
        ...

    async def password_works(self, login: str, password: str) -> bool:
        """Whether the platform accepts ``password`` as the trader's password of ``login``."""
        ...

    async def fail_next(self, command: str) -> None:
        """The platform fails the next call of the contract method ``command`` (``deposit``,
        ``withdraw``, ``create_account``, ``events``, ``account_state``, ``disable_trading``,
        ``close_all_positions``) before doing anything, as a busy or unavailable server."""
        ...

    async def drop_next_response(self, command: str) -> None:
        """The platform applies the next call of ``command`` (``create_account``, ``deposit``,
        ``withdraw``, ``disable_trading``, ``close_all_positions``, ``events``), then its answer
        is lost: the connection drops before the reply reaches the adapter."""
        ...

    async def aclose(self) -> None:
        """Release what the harness holds, the adapter included. Called after each test."""
        ...


def _reference(kind: str) -> str:
    """A reference no other test (or earlier run against the same platform) used."""
    return check_reference(f"{kind}-{uuid.uuid4().hex[:16]}"[:24])


def _moved(price: Decimal, percent: int) -> Decimal:
    """``price`` moved by ``percent`` per cent, to the price's own digits."""
    return (price * (100 + percent) / 100).quantize(price)


async def _attempt(call: Awaitable[T]) -> T | None:
    """The call's answer, or ``None`` when it raised ``TemporarilyUnavailable`` (an outcome
    the caller does not know, as after a dropped answer)."""
    try:
        return await call
    except TemporarilyUnavailable:
        return None


async def _batches(adapter: PlatformAdapter, login: str, cursor: str | None) -> list[EventBatch]:
    """The batches after ``cursor``, read as the poller reads them: until one says no more."""
    batches: list[EventBatch] = []
    for _ in range(MAX_BATCHES):
        batch = await adapter.events(login, cursor)
        batches.append(batch)
        cursor = batch.cursor
        if not batch.more:
            return batches
    raise AssertionError(f"events for {login} still had more after {MAX_BATCHES} batches")


async def _drain(
    adapter: PlatformAdapter, login: str, cursor: str | None = None
) -> tuple[list[PlatformEvent], str]:
    """Every event after ``cursor``, and the cursor after them."""
    batches = await _batches(adapter, login, cursor)
    return [e for b in batches for e in b.events], batches[-1].cursor


def _deals(events: list[PlatformEvent]) -> list[Deal]:
    return [e for e in events if isinstance(e, Deal)]


def _operations(events: list[PlatformEvent], reference: str) -> list[BalanceOperation]:
    """The balance operations carrying the core's ``reference``."""
    return [e for e in events if isinstance(e, BalanceOperation) and reference in e.comment]


async def _open_account(harness: PlatformHarness, balance: Decimal = INITIAL_BALANCE) -> str:
    opened = await harness.adapter.create_account(
        harness.spec(_reference("acct"), initial_balance=balance)
    )
    return opened.login


class PlatformContract:
    """The contract tests. Subclass as ``Test<YourPlatform>`` and define the ``harness``
    fixture; the name of this base keeps pytest from collecting it on its own."""

    # Marked, so the suite also runs where pytest-asyncio is in strict mode.
    pytestmark = [pytest.mark.asyncio]

    @pytest.fixture
    def harness(self) -> PlatformHarness:
        raise NotImplementedError(
            "define an async fixture `harness` returning your PlatformHarness in the subclass"
        )

    @pytest_asyncio.fixture(autouse=True)
    async def _close_harness(self, harness: PlatformHarness) -> AsyncIterator[None]:
        yield
        await harness.aclose()

    # -- accounts -----------------------------------------------------------------------------

    async def test_create_account_opens_a_funded_account(self, harness: PlatformHarness) -> None:
        adapter = harness.adapter
        opened = await adapter.create_account(harness.spec(_reference("acct")))
        assert opened.login and opened.server
        assert opened.password, "the password is delivered by create_account"
        assert opened.password not in repr(opened)
        assert await harness.password_works(opened.login, opened.password)
        state = await adapter.account_state(opened.login)
        assert state.login == opened.login
        assert state.balance == state.equity == INITIAL_BALANCE
        assert state.positions == ()
        assert state.trading_enabled and await harness.trading_enabled(opened.login)
        events, _ = await _drain(adapter, opened.login)
        opening = [e for e in events if isinstance(e, AccountOpened)]
        assert opening == [events[0]], "the stream starts with one account_opened"
        assert opening[0].balance == INITIAL_BALANCE
        assert not [e for e in events if isinstance(e, BalanceOperation)], (
            "the initial deposit is part of account_opened, never a balance event too"
        )

    async def test_create_account_retried_after_a_lost_answer_opens_one_account(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        spec = harness.spec(_reference("acct"))
        await harness.drop_next_response("create_account")
        first = await _attempt(adapter.create_account(spec))
        retried = await adapter.create_account(spec)
        again = await adapter.create_account(spec)
        assert retried.login == again.login
        if first is not None:
            assert first.login == retried.login
            assert first.password != retried.password
        # The first password never reached anybody: each call sets and delivers a new one.
        assert retried.password and again.password and retried.password != again.password
        assert await harness.password_works(again.login, again.password), "the last one works"
        assert not await harness.password_works(retried.login, retried.password)
        assert await harness.balance(retried.login) == INITIAL_BALANCE, "funded once"
        events, _ = await _drain(adapter, retried.login)
        assert len([e for e in events if isinstance(e, AccountOpened)]) == 1
        assert not [e for e in events if isinstance(e, BalanceOperation)]

        # A failure before anything was done: the repeat creates and funds the account.
        spec = harness.spec(_reference("acct"), initial_balance=Decimal(50000))
        await harness.fail_next("create_account")
        opened = await _attempt(adapter.create_account(spec))
        if opened is None:
            opened = await adapter.create_account(spec)
        assert await harness.balance(opened.login) == Decimal(50000)

    async def test_an_unknown_group_is_refused(self, harness: PlatformHarness) -> None:
        spec = replace(harness.spec(_reference("acct")), group=harness.unknown_group)
        with pytest.raises(Refused):
            await harness.adapter.create_account(spec)

    async def test_an_unknown_login_is_account_not_found(self, harness: PlatformHarness) -> None:
        adapter = harness.adapter
        with pytest.raises(AccountNotFound):
            await adapter.account_state(UNKNOWN_LOGIN)
        with pytest.raises(AccountNotFound):
            await adapter.deposit(UNKNOWN_LOGIN, Decimal(10), _reference("dep"))
        with pytest.raises(AccountNotFound):
            await adapter.disable_trading(UNKNOWN_LOGIN)
        with pytest.raises(AccountNotFound):
            await adapter.events(UNKNOWN_LOGIN, None)

    # -- money --------------------------------------------------------------------------------

    async def test_deposit_and_withdraw_move_the_balance(self, harness: PlatformHarness) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        deposit_ref, withdrawal_ref = _reference("dep"), _reference("wd")
        deposit = await adapter.deposit(login, Decimal("2500.50"), deposit_ref)
        assert (deposit.login, deposit.reference, deposit.amount) == (
            login,
            deposit_ref,
            Decimal("2500.50"),
        )
        assert await harness.balance(login) == Decimal("102500.50")
        withdrawal = await adapter.withdraw(login, Decimal("1000.25"), withdrawal_ref)
        assert (withdrawal.login, withdrawal.reference, withdrawal.amount) == (
            login,
            withdrawal_ref,
            Decimal("-1000.25"),
        )
        assert await harness.balance(login) == Decimal("101500.25")
        assert (await adapter.account_state(login)).balance == Decimal("101500.25")
        for result in (deposit, withdrawal):
            assert result.ticket and not result.already_applied
            assert result.time.utcoffset() == timedelta(0)
        assert deposit.ticket != withdrawal.ticket
        events, _ = await _drain(adapter, login)
        assert [e.amount for e in _operations(events, deposit_ref)] == [Decimal("2500.50")]
        assert [e.amount for e in _operations(events, withdrawal_ref)] == [Decimal("-1000.25")]

    async def test_a_withdrawal_over_the_free_margin_is_refused(
        self, harness: PlatformHarness
    ) -> None:
        login = await _open_account(harness)
        await harness.open_position(login, "buy", Decimal(1))
        state = await harness.adapter.account_state(login)
        assert state.margin > 0, "an open position holds margin"
        over = state.free_margin + Decimal("0.01")
        assert over <= state.balance, "the scene needs a balance above the free margin"
        with pytest.raises(Refused):
            await harness.adapter.withdraw(login, over, _reference("wd"))
        assert await harness.balance(login) == state.balance

    async def test_a_reference_moves_one_amount_only(self, harness: PlatformHarness) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        reference = _reference("dep")
        await adapter.deposit(login, Decimal(10), reference)
        with pytest.raises(Refused):
            await adapter.deposit(login, Decimal(20), reference)
        with pytest.raises(Refused):
            await adapter.withdraw(login, Decimal(10), reference)
        assert await harness.balance(login) == INITIAL_BALANCE + 10

    @pytest.mark.parametrize("command", ["deposit", "withdraw"])
    async def test_a_money_move_retried_after_a_lost_answer_applies_once(
        self, harness: PlatformHarness, command: Literal["deposit", "withdraw"]
    ) -> None:
        login = await _open_account(harness)
        move = getattr(harness.adapter, command)
        change = Decimal("1234.56") if command == "deposit" else Decimal("-1234.56")
        reference = _reference(command[:3])
        await harness.drop_next_response(command)
        first = await _attempt(move(login, abs(change), reference))
        retried = await move(login, abs(change), reference)  # the outbox repeats it
        assert retried.already_applied, "the repeat found the operation in the history"
        assert (retried.amount, retried.reference) == (change, reference)
        if first is not None:
            assert retried.ticket == first.ticket
        assert await harness.balance(login) == INITIAL_BALANCE + change, "moved exactly once"

    @pytest.mark.parametrize("command", ["deposit", "withdraw"])
    async def test_a_money_move_that_failed_applies_on_retry(
        self, harness: PlatformHarness, command: Literal["deposit", "withdraw"]
    ) -> None:
        login = await _open_account(harness)
        move = getattr(harness.adapter, command)
        change = Decimal("1234.56") if command == "deposit" else Decimal("-1234.56")
        reference = _reference(command[:3])
        await harness.fail_next(command)
        result = await _attempt(move(login, abs(change), reference))
        if result is None:
            assert await harness.balance(login) == INITIAL_BALANCE, "a failure applies nothing"
            result = await move(login, abs(change), reference)
        assert not result.already_applied and result.amount == change
        assert await harness.balance(login) == INITIAL_BALANCE + change

    # -- trading rights and positions ---------------------------------------------------------

    async def test_disable_trading_stops_the_trader_and_enable_restores(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        kept = await harness.open_position(login, "buy", Decimal(1))
        await adapter.disable_trading(login)
        await adapter.disable_trading(login)  # a disabled account stays disabled
        assert not await harness.trading_enabled(login)
        with pytest.raises(Refused):
            await harness.open_position(login, "buy", Decimal(1))
        with pytest.raises(Refused):
            await harness.close_position(login, kept)
        state = await adapter.account_state(login)
        assert not state.trading_enabled
        assert [p.id for p in state.positions] == [kept], "open positions stay open"
        await adapter.enable_trading(login)
        await adapter.enable_trading(login)
        assert await harness.trading_enabled(login)
        assert (await adapter.account_state(login)).trading_enabled
        await harness.close_position(login, kept)
        await harness.open_position(login, "sell", Decimal(1))

    async def test_close_all_positions_flattens_the_account_once(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        bought = await harness.open_position(login, "buy", Decimal(1))
        sold = await harness.open_position(login, "sell", Decimal("0.5"))
        await harness.set_price(harness.symbol, _moved(harness.price, -1))
        await adapter.disable_trading(login)  # a breach disables first, then closes
        closed = await adapter.close_all_positions(login)
        assert sorted(closed) == sorted([bought, sold])
        state = await adapter.account_state(login)
        assert state.positions == ()
        assert state.balance == state.equity == await harness.balance(login)
        events, cursor = await _drain(adapter, login)
        closing = {d.position: d for d in _deals(events) if d.entry == "out"}
        assert set(closing) == {bought, sold}
        assert (closing[bought].side, closing[sold].side) == ("sell", "buy"), (
            "a closing deal has its own direction"
        )
        balance = await harness.balance(login)
        assert await adapter.close_all_positions(login) == (), "a flat account is left alone"
        assert await harness.balance(login) == balance
        later, _ = await _drain(adapter, login, cursor)
        assert _deals(later) == []

    async def test_disable_and_close_retried_after_a_lost_answer_apply_once(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        positions = {await harness.open_position(login, "buy", Decimal(1)) for _ in range(2)}
        await harness.drop_next_response("disable_trading")
        await _attempt(adapter.disable_trading(login))
        await adapter.disable_trading(login)  # the outbox repeats it
        assert not await harness.trading_enabled(login)
        await harness.drop_next_response("close_all_positions")
        lost = await _attempt(adapter.close_all_positions(login))
        repeated = await adapter.close_all_positions(login)
        if lost is not None:
            assert set(lost) == positions and repeated == ()
        assert set(repeated) <= positions
        assert (await adapter.account_state(login)).positions == ()
        events, _ = await _drain(adapter, login)
        closing = [d.position for d in _deals(events) if d.entry == "out"]
        assert sorted(closing) == sorted(positions), "each position closed once"

    async def test_a_command_that_failed_on_the_platform_can_be_repeated(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        position = await harness.open_position(login, "buy", Decimal(1))

        await harness.fail_next("account_state")
        state = await _attempt(adapter.account_state(login)) or await adapter.account_state(login)
        assert state.balance == await harness.balance(login)

        await harness.fail_next("events")
        batch = await _attempt(adapter.events(login, None)) or await adapter.events(login, None)
        assert isinstance(batch.events[0], AccountOpened)

        await harness.fail_next("disable_trading")
        try:
            await adapter.disable_trading(login)
        except TemporarilyUnavailable:
            assert await harness.trading_enabled(login), "a failure applies nothing"
            await adapter.disable_trading(login)
        assert not await harness.trading_enabled(login)

        await harness.fail_next("close_all_positions")
        closed = await _attempt(adapter.close_all_positions(login))
        if closed is None:
            assert [p.id for p in (await adapter.account_state(login)).positions] == [position]
            closed = await adapter.close_all_positions(login)
        assert closed == (position,)

    async def test_account_state_shows_the_floating_result(self, harness: PlatformHarness) -> None:
        login = await _open_account(harness)
        bought = await harness.open_position(login, "buy", Decimal(2))
        sold = await harness.open_position(login, "sell", Decimal(1))
        await harness.set_price(harness.symbol, _moved(harness.price, -1))  # against the buy
        state = await harness.adapter.account_state(login)
        assert state.login == login and state.balance == await harness.balance(login)
        assert state.equity < state.balance and state.floating < 0
        assert sum(p.floating for p in state.positions) == state.equity - state.balance
        assert state.margin > 0 and state.free_margin == state.equity - state.margin
        held = {p.id: p for p in state.positions}
        assert set(held) == {bought, sold}
        assert (held[bought].symbol, held[bought].side, held[bought].volume) == (
            harness.symbol,
            "buy",
            Decimal(2),
        )
        assert (held[sold].side, held[sold].volume) == ("sell", Decimal(1))
        assert held[bought].profit < 0 < held[sold].profit
        assert held[bought].current_price < held[bought].open_price
        assert state.as_of.utcoffset() == timedelta(0)

    # -- events -------------------------------------------------------------------------------

    async def test_events_resume_from_the_cursor_without_loss_or_repeat(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        position = await harness.open_position(login, "buy", Decimal(1))
        await harness.set_price(harness.symbol, _moved(harness.price, 1))
        await harness.close_position(login, position)
        reference = _reference("dep")
        await adapter.deposit(login, Decimal(500), reference)
        second = await harness.open_position(login, "sell", Decimal(1))
        await harness.close_position(login, second)

        batches = await _batches(adapter, login, None)
        events = [e for b in batches for e in b.events]
        assert isinstance(events[0], AccountOpened)
        times = [e.time for e in events]
        assert times == sorted(times), "times never go backwards, across batches too"
        assert all(t.utcoffset() == timedelta(0) for t in times)
        ids = [d.id for d in _deals(events)]
        assert len(ids) == len(set(ids)), "each deal comes exactly once"
        assert {(d.position, d.entry) for d in _deals(events)} >= {
            (position, "in"),
            (position, "out"),
            (second, "in"),
            (second, "out"),
        }
        assert [e.amount for e in _operations(events, reference)] == [Decimal(500)]

        # From an older cursor (the engine crashed before storing the newer one) the same
        # events come again, at least once.
        cursors: list[str | None] = [None, *(b.cursor for b in batches)]
        for at, older in enumerate(cursors[:-1]):
            after = {d.id for b in batches[at:] for d in _deals(list(b.events))}
            again, _ = await _drain(adapter, login, older)
            assert {d.id for d in _deals(again)} >= after
        last = cursors[-1]
        assert last is not None
        caught_up = await adapter.events(login, last)
        assert not [e for e in caught_up.events if not isinstance(e, Snapshot)], (
            "nothing but snapshots after the last cursor"
        )
        if not caught_up.events:
            assert caught_up.cursor == last, "an empty batch leaves the cursor unchanged"

    async def test_events_after_a_lost_answer_resume_without_loss_or_repeat(
        self, harness: PlatformHarness
    ) -> None:
        adapter = harness.adapter
        login = await _open_account(harness)
        first = await harness.open_position(login, "buy", Decimal(1))
        seen, stored = await _drain(adapter, login)
        await harness.close_position(login, first)
        second = await harness.open_position(login, "sell", Decimal(1))
        reference = _reference("dep")
        await adapter.deposit(login, Decimal(500), reference)

        await harness.drop_next_response("events")
        lost = await _attempt(adapter.events(login, stored))
        if lost is not None:  # answered after all: the engine journals it and stores its cursor
            seen += lost.events
            stored = lost.cursor
        rest, _ = await _drain(adapter, login, stored)
        events = seen + rest
        ids = [d.id for d in _deals(events)]
        assert len(ids) == len(set(ids)), "no deal repeated"
        assert sorted((d.position, d.entry) for d in _deals(events)) == sorted(
            [(first, "in"), (first, "out"), (second, "in")]
        ), "no deal lost"
        assert len(_operations(events, reference)) == 1

    async def test_close_twice_is_harmless(self, harness: PlatformHarness) -> None:
        await _open_account(harness)  # the adapter has connected
        await harness.adapter.close()
        await harness.adapter.close()


class RecordingHarness:
    """``PlatformHarness`` for ``RecordingPlatform``: the adapter under test and a second
    adapter of the same in-memory server that plays the trader and the platform's operator.

    Each harness has a server of its own, forgotten by ``aclose``; ``batch_size`` is small by
    default so the suite reads events over several batches. Trading moves the clock on a second
    so events carry distinct times.
    """

    group = "contract-100k"
    unknown_group = "no-such-group"
    symbol = "EURUSD"
    price = Decimal("1.10000")

    def __init__(self, *, batch_size: int = 3) -> None:
        self._server = f"contract-{uuid.uuid4().hex}"
        settings = {"server": self._server, "groups": [self.group], "batch_size": batch_size}
        self.adapter = RecordingPlatform(settings)
        self.platform = RecordingPlatform(settings)
        self.platform.quote(self.symbol, self.price, snapshot=False)

    def spec(self, reference: str, *, initial_balance: Decimal = INITIAL_BALANCE) -> AccountSpec:
        return AccountSpec(
            reference=reference,
            group=self.group,
            leverage=100,
            initial_balance=initial_balance,
            currency="USD",
            trader_name="Ada Trader",
            trader_email="ada@example.com",
        )

    async def set_price(self, symbol: str, price: Decimal) -> None:
        self.platform.advance(seconds=1)
        self.platform.quote(symbol, price)

    async def open_position(self, login: str, side: Side, volume: Decimal) -> str:
        self.platform.advance(seconds=1)
        return self.platform.open_position(login, self.symbol, side, volume)

    async def close_position(self, login: str, position_id: str) -> None:
        self.platform.advance(seconds=1)
        self.platform.close_position(login, position_id)

    async def trading_enabled(self, login: str) -> bool:
        return self.platform.trading_enabled(login)

    async def balance(self, login: str) -> Decimal:
        return self.platform.state(login).balance

    async def password_works(self, login: str, password: str) -> bool:
        return self.platform.check_password(login, password)

    async def fail_next(self, command: str) -> None:
        self.platform.fail_next(command=command)

    async def drop_next_response(self, command: str) -> None:
        self.platform.drop_next_response(command=command)

    async def aclose(self) -> None:
        await self.adapter.close()
        RecordingPlatform.forget(self._server)
