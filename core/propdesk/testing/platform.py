"""``RecordingPlatform``: an in-process trading platform for tests. Test support only.

It implements ``propdesk.platforms.contract.PlatformAdapter`` over accounts kept in memory, so
tests drive the engine, the lifecycle and the breach actions without a platform plugin. It is
never registered as a plugin: a test that wants it in a plugin host registers
``recording_plugin()`` itself. Nothing here is meant for production; use a real platform's
plugin (``propdesk-mt5``, ...) or its simulator there.

What a test gets:

- **Commands recorded**: every contract call (name, arguments, the platform's time, outcome)
  lands in ``commands``, for assertions such as "trading was disabled once".
- **Scripted trading**: ``quote`` moves a symbol's price (and records a snapshot, with the
  floating result, of every account holding it); ``open_position`` and ``close_position``
  trade as the trader would, at given prices, producing deals; ``balance_operation`` is an
  operation made on the platform outside the core; ``snapshot`` records a reading.
- **Events in order with a cursor**: everything that happens to an account is journalled in
  order and served by ``events(login, cursor)`` in batches of ``batch_size``.
- **Faults**: ``fail_next`` makes the next calls fail with ``TemporarilyUnavailable`` before
  doing anything; ``drop_next_response`` applies the command and then loses the answer (the
  caller sees ``TemporarilyUnavailable``), to prove retries by reference apply once.
- **A clock** that only moves when the test says so (``advance``, ``move_to``).

Adapters made with the same ``server`` setting share one in-memory platform, as the adapters
of a real server would: a test can let the engine build its own adapter with
``cls({"server": "t1"})`` and script trading and read ``commands`` through another.
"""

from __future__ import annotations

import asyncio
import secrets
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, ClassVar, Literal, TypeVar

from jsonschema import Draft202012Validator

from propdesk.platforms.contract import (
    AccountNotFound,
    AccountSpec,
    AccountState,
    BalanceResult,
    EventBatch,
    OpenedAccount,
    PlatformAdapter,
    PlatformEvent,
    Position,
    Refused,
    TemporarilyUnavailable,
    check_reference,
)
from propdesk.platforms.passwords import trader_password
from propdesk.plugins.markers import hookimpl
from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Snapshot
from propdesk.rules.money import CENT, DECIMAL_STRING, ZERO

T = TypeVar("T")
Side = Literal["buy", "sell"]

#: When a platform's clock starts unless its settings say otherwise (a Monday morning).
DEFAULT_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
#: Units of the base currency in one lot, unless ``contract_sizes`` says otherwise (forex).
DEFAULT_CONTRACT_SIZE = Decimal(100000)

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "server": {
            "type": "string",
            "minLength": 1,
            "description": "Name of the in-memory platform; adapters with the same name share it.",
        },
        "groups": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "description": "Groups accounts may be created in; any group when absent.",
        },
        "batch_size": {"type": "integer", "minimum": 1, "description": "Events per batch."},
        "contract_sizes": {
            "type": "object",
            "additionalProperties": DECIMAL_STRING,
            "description": 'Units per lot by symbol, e.g. {"XAUUSD": "100"}; default 100000.',
        },
        "start": {"type": "string", "description": "ISO-8601 time the clock starts at."},
    },
}

#: What a recorded command ended with.
Outcome = Literal["ok", "unavailable", "dropped", "refused", "not_found"]


@dataclass(frozen=True, slots=True)
class Command:
    """One contract call as the platform saw it."""

    name: str
    args: Mapping[str, Any]
    #: The platform's clock when the call arrived.
    time: datetime
    #: ``ok``; ``unavailable`` (an injected failure: nothing was done); ``dropped`` (done, but
    #: the answer was lost); ``refused``; ``not_found``.
    outcome: Outcome


@dataclass(slots=True)
class _Position:
    id: str
    symbol: str
    side: Side
    volume: Decimal
    open_price: Decimal
    opened_at: datetime


@dataclass(slots=True)
class _Account:
    login: str
    password: str
    spec: AccountSpec
    balance: Decimal
    trading_enabled: bool = True
    positions: dict[str, _Position] = field(default_factory=dict)
    journal: list[PlatformEvent] = field(default_factory=list)
    #: Balance operations by the core's reference (the history an adapter searches).
    operations: dict[str, BalanceResult] = field(default_factory=dict)


@dataclass(slots=True)
class _Fault:
    kind: Literal["fail", "drop"]
    remaining: int
    command: str | None
    vendor_code: str


@dataclass(slots=True)
class _Platform:
    """The shared state: what a trade server holds."""

    name: str
    now: datetime
    groups: frozenset[str] | None
    batch_size: int
    contract_sizes: dict[str, Decimal]
    accounts: dict[str, _Account] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)
    quotes: dict[str, Decimal] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    next_login: int = 100001
    next_deal: int = 1
    next_position: int = 1

    def take_fault(self, command: str) -> _Fault | None:
        for fault in self.faults:
            if fault.command is None or fault.command == command:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def deal_id(self) -> str:
        self.next_deal += 1
        return f"D{self.next_deal - 1}"


_SERVERS: dict[str, _Platform] = {}


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _decimal(name: str, value: Decimal | int | str) -> Decimal:
    if isinstance(value, float | bool):
        raise TypeError(f"{name} must be a Decimal (or a decimal string), not {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, not {value!r}")
    return result


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")
    return value.astimezone(UTC)


class RecordingPlatform:
    """An in-memory ``PlatformAdapter`` that records every command. Test support only.

    ``RecordingPlatform(settings)`` as the contract says; ``settings`` (all optional):
    ``server`` (share one platform among adapters of that name; without it the adapter has a
    platform of its own), ``groups`` (allowed groups; any when absent), ``batch_size`` (events
    per batch, default 100), ``contract_sizes`` (units per lot by symbol, default 100000) and
    ``start`` (ISO-8601 time the clock starts at, default ``DEFAULT_START``). The first adapter
    of a named server decides its settings; ``RecordingPlatform.forget(name)`` drops it.

    Profit is ``(close - open) * volume * contract size`` for a buy (reversed for a sell), in
    the account's currency, to the cent; margin is ``volume * contract size * open price /
    leverage``. A position without a quote yet is valued at its open price.
    """

    code: ClassVar[str] = "recording"
    display_name: ClassVar[str] = "Recording platform (tests only)"
    settings_schema: ClassVar[dict[str, Any]] = SETTINGS_SCHEMA

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        settings = dict(settings or {})
        errors = sorted(
            Draft202012Validator(SETTINGS_SCHEMA).iter_errors(settings), key=lambda e: e.path
        )
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path)
            raise ValueError(f"RecordingPlatform settings /{where}: {errors[0].message}")
        name = settings.get("server")
        if name is not None and name in _SERVERS:
            self._platform = _SERVERS[name]
        else:
            start = settings.get("start")
            self._platform = _Platform(
                name=name or "Recording-Demo",
                now=_aware("start", datetime.fromisoformat(start)) if start else DEFAULT_START,
                groups=frozenset(settings["groups"]) if "groups" in settings else None,
                batch_size=settings.get("batch_size", 100),
                contract_sizes={
                    symbol: Decimal(size)
                    for symbol, size in settings.get("contract_sizes", {}).items()
                },
            )
            if name is not None:
                _SERVERS[name] = self._platform
        self.closed = False

    @staticmethod
    def forget(server: str) -> None:
        """Drop the shared platform named ``server`` (its accounts, commands and faults)."""
        _SERVERS.pop(server, None)

    # -- the clock ----------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The platform's clock (UTC); it moves only through ``advance`` and ``move_to``."""
        return self._platform.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward (``advance(seconds=30)``, ``advance(hours=1)``)."""
        step = timedelta(**delta)
        if step < timedelta(0):
            raise ValueError("the clock never goes back")
        self._platform.now += step
        return self._platform.now

    def move_to(self, when: datetime) -> datetime:
        """Set the clock to ``when`` (aware, not before now)."""
        when = _aware("when", when)
        if when < self._platform.now:
            raise ValueError(f"the clock never goes back: {when} is before {self._platform.now}")
        self._platform.now = when
        return when

    # -- faults -------------------------------------------------------------------------------

    def fail_next(
        self, count: int = 1, *, command: str | None = None, vendor_code: str = "unavailable"
    ) -> None:
        """Fail the next ``count`` calls (of ``command`` only, if given) with
        ``TemporarilyUnavailable``, before they do anything."""
        self._platform.faults.append(_Fault("fail", count, command, vendor_code))

    def drop_next_response(self, count: int = 1, *, command: str | None = None) -> None:
        """Apply the next ``count`` calls (of ``command`` only, if given), then lose their
        answers: the caller sees ``TemporarilyUnavailable`` although the command took effect."""
        self._platform.faults.append(_Fault("drop", count, command, "timeout"))

    # -- what happened ------------------------------------------------------------------------

    @property
    def commands(self) -> list[Command]:
        """Every contract call so far, in order (scripted trading is not a command)."""
        return list(self._platform.commands)

    def calls(self, name: str | None = None, *, outcome: Outcome | None = None) -> list[Command]:
        """The recorded commands named ``name`` (all when ``None``), with ``outcome`` if given."""
        return [
            c
            for c in self._platform.commands
            if (name is None or c.name == name) and (outcome is None or c.outcome == outcome)
        ]

    def journal(self, login: str) -> tuple[PlatformEvent, ...]:
        """Every event of the account so far, in order (what ``events`` serves)."""
        return tuple(self._account(login).journal)

    def state(self, login: str) -> AccountState:
        """The account's state now, without recording a command."""
        return self._state(self._account(login))

    def trading_enabled(self, login: str) -> bool:
        return self._account(login).trading_enabled

    def check_password(self, login: str, password: str) -> bool:
        """Whether ``password`` is the account's trader password now."""
        return secrets.compare_digest(self._account(login).password, password)

    def login_for(self, reference: str) -> str | None:
        """The login of the account created with ``reference``, if any."""
        return self._platform.by_reference.get(reference)

    # -- scripted trading ---------------------------------------------------------------------

    def quote(self, symbol: str, price: Decimal | str, *, snapshot: bool = True) -> list[Snapshot]:
        """Move ``symbol`` to ``price``. With ``snapshot``, record a snapshot (balance and
        equity with the new floating result) of every account holding the symbol."""
        self._platform.quotes[symbol] = _decimal("price", price)
        if not snapshot:
            return []
        return [
            self._snapshot(account)
            for account in self._platform.accounts.values()
            if any(p.symbol == symbol for p in account.positions.values())
        ]

    def snapshot(self, login: str) -> Snapshot:
        """Record a snapshot of the account's balance and equity now."""
        return self._snapshot(self._account(login))

    def bulk_open(self, logins: list[str], balance: Decimal, *, group: str = "bench") -> None:
        """Open many accounts at once with the given logins (benchmarks: no commands recorded)."""
        platform = self._platform
        for login in logins:
            spec = AccountSpec(f"bulk-{login}"[:24], group, 100, balance, "USD", login, "")
            account = _Account(login, trader_password(), spec, balance)
            account.journal.append(AccountOpened(platform.now, balance))
            platform.accounts[login] = account

    def open_position(
        self,
        login: str,
        symbol: str,
        side: Side,
        volume: Decimal | str,
        price: Decimal | str | None = None,
        *,
        commission: Decimal | str = ZERO,
    ) -> str:
        """The trader opens a position at ``price`` (which becomes the symbol's quote; the
        current quote when ``None``). ``commission`` is signed, as it changes the balance (a
        charge is negative). Refused when trading is disabled. Returns the position id."""
        account = self._account(login)
        self._check_trading(account)
        if side not in ("buy", "sell"):
            raise ValueError(f"side must be buy or sell, not {side!r}")
        lots = _decimal("volume", volume)
        if lots <= 0:
            raise ValueError(f"volume must be positive, not {lots}")
        at = self._price(symbol, price)
        platform = self._platform
        position = _Position(f"P{platform.next_position}", symbol, side, lots, at, platform.now)
        platform.next_position += 1
        account.positions[position.id] = position
        charged = _decimal("commission", commission)
        account.balance += charged
        account.journal.append(
            Deal(
                time=platform.now,
                id=platform.deal_id(),
                position=position.id,
                symbol=symbol,
                side=side,
                entry="in",
                volume=lots,
                price=at,
                profit=ZERO,
                commission=charged,
                swap=ZERO,
            )
        )
        return position.id

    def close_position(
        self,
        login: str,
        position: str,
        price: Decimal | str | None = None,
        *,
        volume: Decimal | str | None = None,
        commission: Decimal | str = ZERO,
    ) -> Deal:
        """The trader closes ``position`` (or ``volume`` lots of it) at ``price`` (which becomes
        the symbol's quote; the current quote when ``None``). Refused when trading is
        disabled. Returns the closing deal."""
        account = self._account(login)
        self._check_trading(account)
        held = account.positions.get(position)
        if held is None:
            raise Refused(f"account {login} has no open position {position}", vendor_code="13")
        lots = held.volume if volume is None else _decimal("volume", volume)
        if not 0 < lots <= held.volume:
            raise ValueError(f"volume must be more than 0 and at most {held.volume}, not {lots}")
        return self._close(account, held, self._price(held.symbol, price), lots, commission)

    def balance_operation(
        self, login: str, amount: Decimal | str, comment: str = ""
    ) -> BalanceOperation:
        """A balance operation made on the platform itself, not through the core (a dealer's
        correction): it reaches the engine as a ``balance`` event."""
        account = self._account(login)
        change = _decimal("amount", amount)
        account.balance += change
        event = BalanceOperation(self._platform.now, change, comment)
        account.journal.append(event)
        return event

    # -- the contract -------------------------------------------------------------------------

    async def create_account(self, spec: AccountSpec) -> OpenedAccount:
        """See ``PlatformAdapter.create_account``; a retry that finds the account created
        under ``spec.reference`` sets and returns a new password."""
        return await self._run("create_account", {"spec": spec}, lambda: self._create(spec))

    async def deposit(self, login: str, amount: Decimal, reference: str) -> BalanceResult:
        """See ``PlatformAdapter.deposit``: one reference moves the balance once."""
        _check_amount(amount, reference)
        args = {"login": login, "amount": amount, "reference": reference}
        return await self._run("deposit", args, lambda: self._move(login, amount, reference))

    async def withdraw(self, login: str, amount: Decimal, reference: str) -> BalanceResult:
        """See ``PlatformAdapter.withdraw``: refused over the free margin."""
        _check_amount(amount, reference)
        args = {"login": login, "amount": amount, "reference": reference}
        return await self._run("withdraw", args, lambda: self._move(login, -amount, reference))

    async def disable_trading(self, login: str) -> None:
        """See ``PlatformAdapter.disable_trading``."""
        await self._run("disable_trading", {"login": login}, lambda: self._rights(login, False))

    async def enable_trading(self, login: str) -> None:
        """See ``PlatformAdapter.enable_trading``."""
        await self._run("enable_trading", {"login": login}, lambda: self._rights(login, True))

    async def close_all_positions(self, login: str) -> tuple[str, ...]:
        """See ``PlatformAdapter.close_all_positions``: at the current quotes, as the dealer."""
        return await self._run(
            "close_all_positions", {"login": login}, lambda: self._close_all(login)
        )

    async def account_state(self, login: str) -> AccountState:
        """See ``PlatformAdapter.account_state``."""
        return await self._run("account_state", {"login": login}, lambda: self.state(login))

    async def events(self, login: str, cursor: str | None) -> EventBatch:
        """See ``PlatformAdapter.events``; cursors read ``<login>:<events delivered>``."""
        args = {"login": login, "cursor": cursor}
        return await self._run("events", args, lambda: self._batch(login, cursor))

    async def close(self) -> None:
        """See ``PlatformAdapter.close``; this adapter refuses calls afterwards."""
        self.closed = True

    # -- inside -------------------------------------------------------------------------------

    async def _run(self, name: str, args: dict[str, Any], action: Callable[[], T]) -> T:
        if self.closed:
            raise RuntimeError("this RecordingPlatform adapter was closed")
        await asyncio.sleep(0)  # a call is I/O: let other tasks run, as a real adapter would
        platform = self._platform
        fault = platform.take_fault(name)

        def record(outcome: Outcome) -> None:
            platform.commands.append(Command(name, args, platform.now, outcome))

        if fault is not None and fault.kind == "fail":
            record("unavailable")
            raise TemporarilyUnavailable(
                f"{name}: the platform is unavailable (injected)", vendor_code=fault.vendor_code
            )
        try:
            result = action()
        except AccountNotFound:
            record("not_found")
            raise
        except Refused:
            record("refused")
            raise
        if fault is not None:
            record("dropped")
            raise TemporarilyUnavailable(
                f"{name}: no answer from the platform (injected; the command was applied)",
                vendor_code=fault.vendor_code,
            )
        record("ok")
        return result

    def _account(self, login: str) -> _Account:
        account = self._platform.accounts.get(login)
        if account is None:
            raise AccountNotFound(
                f"no account {login} on {self._platform.name}", vendor_code="not_found"
            )
        return account

    def _create(self, spec: AccountSpec) -> OpenedAccount:
        platform = self._platform
        login = platform.by_reference.get(spec.reference)
        if login is not None:
            account = platform.accounts[login]
            if account.spec != spec:
                raise Refused(
                    f"reference {spec.reference} created account {login} with other values",
                    vendor_code="reference_reused",
                )
            account.password = trader_password()  # the first one never reached anybody
            return OpenedAccount(login, account.password, platform.name)
        if platform.groups is not None and spec.group not in platform.groups:
            raise Refused(f"unknown group {spec.group!r}", vendor_code="unknown_group")
        login = str(platform.next_login)
        platform.next_login += 1
        account = _Account(login, trader_password(), spec, spec.initial_balance)
        account.operations[spec.reference] = BalanceResult(
            login, spec.reference, spec.initial_balance, platform.deal_id(), platform.now
        )
        account.journal.append(AccountOpened(platform.now, spec.initial_balance))
        platform.accounts[login] = account
        platform.by_reference[spec.reference] = login
        return OpenedAccount(login, account.password, platform.name)

    def _move(self, login: str, change: Decimal, reference: str) -> BalanceResult:
        account = self._account(login)
        done = account.operations.get(reference)
        if done is not None:  # the history check an adapter makes before any retry
            if done.amount != change:
                raise Refused(
                    f"reference {reference} already moved {done.amount} on account {login}",
                    vendor_code="reference_reused",
                )
            return replace(done, already_applied=True)
        if change < 0 and -change > self._state(account).free_margin:
            raise Refused(
                f"withdrawal of {-change} exceeds the free margin of account {login}",
                vendor_code="no_money",
            )
        platform = self._platform
        account.balance += change
        result = BalanceResult(login, reference, change, platform.deal_id(), platform.now)
        account.operations[reference] = result
        account.journal.append(BalanceOperation(platform.now, change, reference))
        return result

    def _rights(self, login: str, enabled: bool) -> None:
        self._account(login).trading_enabled = enabled

    def _close_all(self, login: str) -> tuple[str, ...]:
        account = self._account(login)
        closed = tuple(account.positions)
        for position in list(account.positions.values()):
            self._close(account, position, self._price(position.symbol, None), position.volume)
        return closed

    def _batch(self, login: str, cursor: str | None) -> EventBatch:
        account = self._account(login)
        start = 0
        if cursor is not None:
            owner, _, count = cursor.rpartition(":")
            if owner != login or not count.isdigit() or int(count) > len(account.journal):
                raise ValueError(f"cursor {cursor!r} was not issued for account {login}")
            start = int(count)
        end = min(start + self._platform.batch_size, len(account.journal))
        return EventBatch(
            tuple(account.journal[start:end]), f"{login}:{end}", more=end < len(account.journal)
        )

    def _check_trading(self, account: _Account) -> None:
        if not account.trading_enabled:
            raise Refused(
                f"trading is disabled on account {account.login}", vendor_code="trade_disabled"
            )

    def _price(self, symbol: str, price: Decimal | str | None) -> Decimal:
        if price is not None:
            self._platform.quotes[symbol] = _decimal("price", price)
        quote = self._platform.quotes.get(symbol)
        if quote is None:
            raise ValueError(f"no price for {symbol}: pass one or quote the symbol first")
        return quote

    def _size(self, symbol: str) -> Decimal:
        return self._platform.contract_sizes.get(symbol, DEFAULT_CONTRACT_SIZE)

    def _profit(self, position: _Position, price: Decimal, lots: Decimal) -> Decimal:
        move = price - position.open_price
        if position.side == "sell":
            move = -move
        return _cents(move * lots * self._size(position.symbol))

    def _close(
        self,
        account: _Account,
        position: _Position,
        price: Decimal,
        lots: Decimal,
        commission: Decimal | str = ZERO,
    ) -> Deal:
        platform = self._platform
        profit = self._profit(position, price, lots)
        charged = _decimal("commission", commission)
        side: Side = "sell" if position.side == "buy" else "buy"
        deal = Deal(
            time=platform.now,
            id=platform.deal_id(),
            position=position.id,
            symbol=position.symbol,
            side=side,
            entry="out",
            volume=lots,
            price=price,
            profit=profit,
            commission=charged,
            swap=ZERO,
        )
        account.balance += profit + charged
        position.volume -= lots
        if position.volume <= 0:
            del account.positions[position.id]
        account.journal.append(deal)
        return deal

    def _state(self, account: _Account) -> AccountState:
        positions = []
        margin = ZERO
        for held in account.positions.values():
            price = self._platform.quotes.get(held.symbol, held.open_price)
            positions.append(
                Position(
                    id=held.id,
                    symbol=held.symbol,
                    side=held.side,
                    volume=held.volume,
                    open_price=held.open_price,
                    current_price=price,
                    profit=self._profit(held, price, held.volume),
                    swap=ZERO,
                    opened_at=held.opened_at,
                )
            )
            margin += held.volume * self._size(held.symbol) * held.open_price
        margin = _cents(margin / account.spec.leverage)
        equity = account.balance + sum((p.floating for p in positions), ZERO)
        return AccountState(
            login=account.login,
            balance=account.balance,
            equity=equity,
            margin=margin,
            free_margin=equity - margin,
            positions=tuple(positions),
            trading_enabled=account.trading_enabled,
            as_of=self._platform.now,
        )

    def _snapshot(self, account: _Account) -> Snapshot:
        snapshot = self._state(account).snapshot()
        account.journal.append(snapshot)
        return snapshot


def _check_amount(amount: Decimal, reference: str) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be a positive Decimal, not {amount!r}")
    check_reference(reference)


def recording_plugin(adapter: type[RecordingPlatform] = RecordingPlatform) -> types.ModuleType:
    """A plugin module registering ``adapter`` (``RecordingPlatform`` or a subclass; code
    ``recording``), for tests that load it into a plugin host: ``PluginHost.load(settings,
    [("recording", recording_plugin())])``. Never registered otherwise."""
    module = types.ModuleType("propdesk_recording_platform")

    def propdesk_register_platforms() -> list[type[PlatformAdapter]]:
        return [adapter]

    def propdesk_register_settings_schema() -> dict[str, Any]:
        return SETTINGS_SCHEMA

    for hook in (propdesk_register_platforms, propdesk_register_settings_schema):
        setattr(module, hook.__name__, hookimpl(hook))
    return module
