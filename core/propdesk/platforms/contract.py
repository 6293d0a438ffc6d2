"""The platform contract: what the core asks of a trading platform (MT5, MT4, cTrader).

A platform plugin registers an adapter class through ``propdesk_register_platforms``; the core
makes one adapter per desk with ``cls(settings)`` (the desk's settings of that plugin, secrets
still as references, resolved when connecting) and calls its ``async def`` methods from the
worker (reads also from staff pages).
Every method is a command or a read against the platform's manager interface; none of them is
called inside a database transaction.

The shape every platform can honour, whatever its wire protocol:

- **Money** is ``Decimal`` in the account's currency; an adapter converts at the edge (MT5
  decimal strings, cTrader integers scaled by ``moneyDigits``, MT4 doubles rounded to cents).
- **Time** is an aware ``datetime`` in UTC. MT4 and MT5 report seconds in the trade server's
  time zone: the adapter converts them with the server's offset before anything leaves it.
- **Commands run at least once.** The core sends them from its outbox and repeats them when the
  outcome is unknown (a timeout, a dropped connection, ``TemporarilyUnavailable``). Every
  command is therefore idempotent: state commands (disable, enable, close) by their nature,
  money moves and account creation by the core's ``reference``. No platform has an idempotency
  key, so the adapter writes the reference into the operation (MT5 and MT4 ``comment``, cTrader
  ``externalId``) and, before repeating a call whose outcome it does not know, looks for it in
  the account's history.
- **Events** are the engine's own types (``propdesk.rules.events``): ``account_opened``,
  ``deal``, ``snapshot`` and ``balance``. The adapter reads the platform (polling or a push
  stream) and hands them over with a durable cursor; the engine stores the cursor with the
  events it journalled and passes it back.
- **Errors** are typed: ``AccountNotFound``, ``TemporarilyUnavailable`` (retry later, same
  arguments) and ``Refused`` (permanent: do not retry). Each keeps the vendor's own code.

``propdesk.testing.platform.RecordingPlatform`` implements this contract in memory for tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from propdesk.errors import PropdeskError
from propdesk.rules.events import AccountOpened, BalanceOperation, Deal, Snapshot

#: The events a platform produces (the engine adds ``news`` from calendars itself).
PlatformEvent = AccountOpened | Deal | Snapshot | BalanceOperation

#: A reference fits the operation comment of every platform with room for an adapter's prefix
#: (MT5 and MT4 comments hold 31 characters, cTrader's ``externalId`` more).
MAX_REFERENCE_LENGTH = 24
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_\-]*$")


def check_reference(reference: str) -> str:
    """``reference`` if it is one the core may send: 1 to 24 letters, digits, ``:``, ``_``, ``-``.

    Raises ``ValueError`` otherwise. Adapters call it before writing a reference anywhere.
    """
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ValueError(
            f"reference {reference!r} must start with a letter or digit and hold only "
            "letters, digits, ':', '_' and '-'"
        )
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise ValueError(
            f"reference {reference!r} is {len(reference)} characters long; "
            f"at most {MAX_REFERENCE_LENGTH} fit a platform's comment"
        )
    return reference


def _money(owner: str, name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{owner}.{name} must be a finite Decimal, not {value!r}")


def _utc(owner: str, name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{owner}.{name} must be an aware datetime, not {value!r}")
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """The trading account a phase needs: what ``create_account`` provisions."""

    #: The core's id of this provisioning (at most 24 characters, see ``check_reference``):
    #: creating an account twice with one reference yields one account.
    reference: str
    #: The platform group configured for the phase (MT5 ``demo\\challenge-100k``, a cTrader
    #: group name); the group decides the symbols, the commissions and the stop-out level.
    group: str
    #: Leverage as ``1:leverage`` (100 means 1:100).
    leverage: int
    #: Starting balance, deposited as part of the creation.
    initial_balance: Decimal
    #: Deposit currency, ISO 4217 (``USD``); must be the group's currency.
    currency: str
    trader_name: str
    trader_email: str

    def __post_init__(self) -> None:
        check_reference(self.reference)
        _money("AccountSpec", "initial_balance", self.initial_balance)
        if self.initial_balance <= 0:
            raise ValueError(f"initial balance must be positive, not {self.initial_balance}")
        if isinstance(self.leverage, bool) or not isinstance(self.leverage, int):
            raise TypeError(f"leverage must be an int, not {self.leverage!r}")
        if self.leverage < 1:
            raise ValueError(f"leverage must be at least 1, not {self.leverage}")
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 code like USD")
        if not self.group:
            raise ValueError("group must name the platform group of the phase")


@dataclass(frozen=True, slots=True)
class OpenedAccount:
    """A created trading account. The password is delivered once: the core hands it to the
    trader (e-mail, portal) and never stores it; it does not appear in ``repr``."""

    #: The platform's account number, as text (MT5 ``954402``, cTrader ``8035344``).
    login: str
    password: str = field(repr=False)
    #: The server the trader's terminal connects to (MT5 ``Propdesk-Demo``, a cTrader host).
    server: str


@dataclass(frozen=True, slots=True)
class Position:
    """An open position as the platform shows it now."""

    #: The platform's position id (MT5 position ticket, cTrader ``positionId``).
    id: str
    symbol: str
    side: Literal["buy", "sell"]
    #: Lots.
    volume: Decimal
    open_price: Decimal
    #: The price the floating result is computed at (the platform's last quote).
    current_price: Decimal
    #: Floating result at ``current_price``, in the account's currency.
    profit: Decimal
    #: Swap accrued so far, in the account's currency (part of the floating result).
    swap: Decimal
    #: When the position opened, UTC.
    opened_at: datetime

    def __post_init__(self) -> None:
        for name in ("volume", "open_price", "current_price", "profit", "swap"):
            _money("Position", name, getattr(self, name))
        if self.side not in ("buy", "sell"):
            raise ValueError(f"side must be buy or sell, not {self.side!r}")
        object.__setattr__(self, "opened_at", _utc("Position", "opened_at", self.opened_at))

    @property
    def floating(self) -> Decimal:
        """What closing now would add to the balance before commission: profit plus swap."""
        return self.profit + self.swap


@dataclass(frozen=True, slots=True)
class AccountState:
    """Balance, equity and positions of an account, read in one go from the platform."""

    login: str
    balance: Decimal
    #: Balance plus the floating result of the open positions.
    equity: Decimal
    #: Margin held by the open positions.
    margin: Decimal
    #: Equity minus margin.
    free_margin: Decimal
    positions: tuple[Position, ...]
    #: False once ``disable_trading`` took effect (the trader may log in, not trade).
    trading_enabled: bool
    #: When the platform read these values: its server time, converted to UTC.
    as_of: datetime

    def __post_init__(self) -> None:
        for name in ("balance", "equity", "margin", "free_margin"):
            _money("AccountState", name, getattr(self, name))
        object.__setattr__(self, "positions", tuple(self.positions))
        object.__setattr__(self, "as_of", _utc("AccountState", "as_of", self.as_of))

    @property
    def floating(self) -> Decimal:
        """Equity minus balance: the open positions' result."""
        return self.equity - self.balance

    def snapshot(self) -> Snapshot:
        """This reading as the engine's ``snapshot`` event."""
        return Snapshot(self.as_of, self.balance, self.equity)


@dataclass(frozen=True, slots=True)
class BalanceResult:
    """What a deposit or a withdrawal did."""

    login: str
    #: The core's reference the operation carries.
    reference: str
    #: Signed change of the balance: positive for a deposit, negative for a withdrawal.
    amount: Decimal
    #: The platform's id of the operation (MT5 deal ticket, cTrader ``balanceHistoryId``).
    ticket: str
    #: When the platform applied it (the first time), UTC.
    time: datetime
    #: True when the operation was found already applied (an earlier attempt whose answer was
    #: lost) and was not applied again.
    already_applied: bool = False

    def __post_init__(self) -> None:
        _money("BalanceResult", "amount", self.amount)
        object.__setattr__(self, "time", _utc("BalanceResult", "time", self.time))


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events of one account after a cursor, and the cursor to ask from next time."""

    #: In time order (never decreasing), UTC.
    events: tuple[PlatformEvent, ...]
    #: Opaque, durable: store it with the journalled events and pass it to the next call.
    #: Unchanged when the batch is empty.
    cursor: str
    #: True when more events are ready now: ask again at once rather than at the next poll.
    more: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))
        last: datetime | None = None
        for event in self.events:
            when = event.time
            if when.tzinfo is None or when.utcoffset() != timedelta(0):
                raise ValueError(f"{event.type} event time {when!r} is not in UTC")
            if last is not None and when < last:
                raise ValueError(f"events go back in time: {when} after {last}")
            last = when


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class PlatformError(PropdeskError):
    """The platform did not do what was asked. ``vendor_code`` is the platform's own code
    (MT5 retcode ``"13"``, cTrader ``"TRADER_NOT_FOUND"``), kept for support and audit."""

    status = 502
    title = "Trading platform error"
    slug = "platform-error"

    def __init__(self, detail: str, *, vendor_code: str | None = None) -> None:
        super().__init__(detail)
        self.vendor_code = vendor_code

    @property
    def problem_extra(self) -> dict[str, Any]:
        return {} if self.vendor_code is None else {"platform_code": self.vendor_code}


class AccountNotFound(PlatformError):
    """The platform has no account with this login (deleted, or never created there)."""

    status = 404
    title = "Trading account not found"
    slug = "platform-account-not-found"


class TemporarilyUnavailable(PlatformError):
    """Try again later with the same arguments: the platform is down, busy or rate-limiting,
    or the outcome of the command is unknown (a timeout after sending it). ``retry_after`` is
    the platform's hint in seconds, when it gave one."""

    status = 503
    title = "Trading platform unavailable"
    slug = "platform-unavailable"

    def __init__(
        self, detail: str, *, vendor_code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail, vendor_code=vendor_code)
        self.retry_after = retry_after


class Refused(PlatformError):
    """The platform refused the command for good (not enough money, invalid group, trading
    disabled, a reference reused for another amount): repeating it gives the same answer."""

    status = 409
    title = "Refused by the trading platform"
    slug = "platform-refused"


# ---------------------------------------------------------------------------------------------
# The adapter
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class PlatformAdapter(Protocol):
    """Talks to a trading platform (MT5, MT4, cTrader): accounts, money, trading rights, events.

    Identity as every component (``code``, ``display_name``, ``settings_schema``); made per
    desk with ``cls(settings)``, where ``settings`` are the desk's settings of the plugin,
    validated against ``settings_schema``, secrets still as references (resolve them with
    ``propdesk.tenancy.secrets.resolve_secrets`` when connecting, so a rotated secret is
    picked up and none sits in memory longer than needed). Construction does no I/O:
    connect lazily on the first call, reconnect (and re-authenticate) transparently, and let
    ``close()`` release the connections. Every method may raise ``AccountNotFound``,
    ``TemporarilyUnavailable`` or ``Refused`` (all ``PlatformError``); anything else is a bug
    in the adapter.
    """

    #: Stable lowercase identifier, stored in the database (``mt5``, ``ctrader``).
    code: ClassVar[str]
    #: Name shown to staff.
    display_name: ClassVar[str]
    #: JSON Schema (2020-12) of this adapter's per-desk settings (server, manager login,
    #: password as a secret reference, group per phase, poll interval, ...).
    settings_schema: ClassVar[dict[str, Any]]

    def __init__(self, settings: Mapping[str, Any]) -> None: ...

    async def create_account(self, spec: AccountSpec) -> OpenedAccount:
        """Create a trading account in ``spec.group`` and fund it with ``spec.initial_balance``.

        Called by the worker when a phase is provisioned (a purchase paid, a phase passed).
        Idempotent by ``spec.reference``: the adapter stamps the reference on the account
        (MT5 ``Comment`` or ``ApiData``, MT4 ``comment``, cTrader ``description``) and on the
        initial deposit, and after an unknown outcome looks for an account carrying it before
        creating one. Found, it is completed (funded if the deposit is missing) and returned
        with a freshly set password, since the first one never reached anybody: the password
        is always delivered, and only by this call. The trader may trade once this returns.

        The account's event stream starts with one ``account_opened`` whose balance is the
        initial balance; the initial deposit is part of it, never a ``balance`` event too.

        :param spec: Group, leverage, initial balance, currency, the trader's name and e-mail,
            and the reference.
        :returns: Login, password (never stored by the core) and the trader's server.
        :raises Refused: the group is unknown or not allowed for the manager, the currency
            is not the group's, or the platform ran out of logins.
        """
        ...

    async def deposit(self, login: str, amount: Decimal, reference: str) -> BalanceResult:
        """Add ``amount`` (positive) to the balance, as a balance operation carrying
        ``reference``.

        Called by the worker, from the outbox, at least once (resets, scaling, refunds to the
        account). Idempotent by ``reference``: the adapter writes it into the operation's
        comment and, before repeating a call whose outcome it does not know, **searches the
        account's balance history for it** (MT5 ``deal/get_batch`` for ``Action=2`` deals with
        the tag in ``Comment``, cTrader cash-flow history by ``externalId``, MT4 history
        ``OP_BALANCE`` rows). Found, it returns that operation with ``already_applied=True``
        and applies nothing. Whatever the retries, one reference moves the balance once.

        :param login: The account.
        :param amount: Positive, in the account's currency.
        :param reference: The core's id of this money move (``check_reference``).
        :returns: The operation, with the platform's ticket and time in UTC.
        :raises Refused: the reference was used for another amount or direction, or the
            platform refused the amount.
        :raises TemporarilyUnavailable: the outcome is unknown even after the history check;
            call again with the same reference.
        """
        ...

    async def withdraw(self, login: str, amount: Decimal, reference: str) -> BalanceResult:
        """Take ``amount`` (positive) from the balance, as a balance operation carrying
        ``reference``; the result's ``amount`` is negative.

        Called by the worker, from the outbox, at least once (payouts, resets). Idempotent by
        ``reference`` exactly as ``deposit``: the adapter checks the history for the reference
        before repeating a call whose outcome it does not know. The platform's margin check
        applies; a withdrawal over the free margin is ``Refused`` (MT5 retcode 10019).

        :param login: The account.
        :param amount: Positive, in the account's currency.
        :param reference: The core's id of this money move (``check_reference``).
        :returns: The operation, with a negative ``amount``.
        :raises Refused: not enough free margin, or the reference was used otherwise.
        """
        ...

    async def disable_trading(self, login: str) -> None:
        """Stop the account from trading: new orders and trader-initiated closes are refused,
        the trader can still log in and see the account; open positions stay open.

        Called by the worker on a breach (before ``close_all_positions``) and on a pause.
        Idempotent: disabling a disabled account does nothing. When it returns, the platform
        refuses the trader's next order (MT5 ``TRADE_DISABLED`` right, MT4 read-only, cTrader
        ``NO_TRADING``).

        :param login: The account.
        """
        ...

    async def enable_trading(self, login: str) -> None:
        """Let the account trade again (a pause ended, an operator reinstated it).

        Called by the worker; idempotent: enabling an enabled account does nothing.

        :param login: The account.
        """
        ...

    async def close_all_positions(self, login: str) -> tuple[str, ...]:
        """Close every open position of the account at market, as the manager (dealer).

        Called by the worker on a breach whose product closes positions, after
        ``disable_trading``; works whatever the account's trading rights. Idempotent: a flat
        account is left alone. When it returns the account is flat; the closing deals reach
        the engine through ``events`` like any other deal (with MT5, one
        ``dealer/send_request`` per position, polled until done).

        :param login: The account.
        :returns: The ids of the positions this call closed (empty when already flat).
        """
        ...

    async def account_state(self, login: str) -> AccountState:
        """Read balance, equity, margin, positions and trading rights now.

        Called by the worker and by staff pages; a read, safe to repeat. Equity includes the
        floating result of the open positions. ``as_of`` is the platform's time of the reading
        converted from server time to UTC.

        :param login: The account.
        """
        ...

    async def events(self, login: str, cursor: str | None) -> EventBatch:
        """The account's events after ``cursor``, oldest first, and the cursor after them.

        Called by the platform poller (or a push consumer) for every live account, about once
        a second; ``cursor`` is ``None`` the first time, then the cursor of the last batch the
        engine journalled. Guarantees:

        - From a cursor the adapter returned, nothing is lost and nothing repeated: each deal
          and balance operation comes exactly once across consecutive batches. Called again
          with an older cursor (the engine crashed before storing the new one) it returns the
          same events again: delivery is at least once, and deals carry the platform's deal id
          so the journal drops the repeats.
        - The first event is ``account_opened``, with the initial balance.
        - Times are UTC (converted from server time) and never go backwards; a ``snapshot``
          at a time is emitted only after every deal and balance operation up to that time.
        - A deal is the engine's ``Deal``: ``side`` the deal's own direction (a sell closes a
          buy), ``entry`` ``in`` or ``out`` (a reversal is split into both), ``profit``,
          ``commission`` and ``swap`` as they changed the balance. A balance operation is a
          ``BalanceOperation`` whose comment is the core's reference when it made it.
        - Snapshots are the platform's readings of balance and equity; an adapter that polls
          emits one per call (or when equity moved), and need not repeat them on a repeat
          call.

        :param login: The account.
        :param cursor: ``None`` for the start of the account, or a cursor this adapter
            returned for this login (an unreadable cursor raises ``ValueError``).
        :returns: The events and the new cursor; ``more`` when another batch is ready now.
        """
        ...

    async def close(self) -> None:
        """Release connections (log out, close sockets).

        Called once when the desk's adapter is discarded (worker shutdown, settings change);
        the adapter is not used afterwards. Calling it twice does nothing.
        """
        ...
