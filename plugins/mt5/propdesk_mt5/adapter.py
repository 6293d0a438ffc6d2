"""``MT5Platform``: the core's platform contract over the MT5 Web API.

MT5 has no idempotency key, so every money move and account carries the core's reference in a
tag (``pd:<reference>``, in the deal's and the account's ``Comment``) and the adapter looks for
the tag before it acts: a repeated call (the outbox delivers at least once) or one whose answer
was lost finds what the first one did instead of doing it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from propdesk.platforms.contract import (
    AccountNotFound,
    AccountSpec,
    AccountState,
    BalanceResult,
    EventBatch,
    OpenedAccount,
    Position,
    Refused,
    TemporarilyUnavailable,
    check_reference,
)
from propdesk.platforms.passwords import trader_password
from propdesk_mt5.client import MT5Client
from propdesk_mt5.errors import (
    AuthError,
    ConnectionLost,
    MT5Error,
    NotFound,
    ProtocolError,
    Transient,
)
from propdesk_mt5.events import OVERLAP_MS, Cursor, Reading, build_batch, prune
from propdesk_mt5.protocol import (
    REQUEST_PENDING,
    DealAction,
    PositionAction,
    Retcode,
    Rights,
    ServerTime,
    parse_retcode,
    to_lots,
)
from propdesk_mt5.settings import SETTINGS_SCHEMA, MT5Settings

#: Prefix of the tag carrying the core's reference (3 + 24 characters fit MT5's 31).
TAG = "pd:"
#: Events handed over per call at most; ``more`` says when others wait.
BATCH_LIMIT = 500
NOT_TRADING = Rights.TRADE_DISABLED | Rights.READONLY


def tag(reference: str) -> str:
    return TAG + check_reference(reference)


@contextlib.contextmanager
def _mapped(login: str | None = None) -> Iterator[None]:
    """The client's errors as the contract's: each keeps the MT5 retcode."""
    try:
        yield
    except NotFound as exc:
        raise AccountNotFound(f"MT5 has no account {login}: {exc}", vendor_code="13") from exc
    except AuthError as exc:
        raise TemporarilyUnavailable(
            f"the MT5 server refused the manager login ({exc}): check the manager login and "
            "its API password in the desk's mt5 settings",
            vendor_code=str(exc.code),
        ) from exc
    except (Transient, ConnectionLost, ProtocolError) as exc:
        raise TemporarilyUnavailable(str(exc), vendor_code=str(exc.code)) from exc
    except MT5Error as exc:
        raise Refused(str(exc), vendor_code=str(exc.code)) from exc


def _decimal(record: Mapping[str, Any], name: str) -> Decimal:
    return Decimal(str(record.get(name) or 0))


class MT5Platform:
    """The platform contract on an MT5 server, for one desk (``cls(settings)``)."""

    code: ClassVar[str] = "mt5"
    display_name: ClassVar[str] = "MetaTrader 5"
    settings_schema: ClassVar[dict[str, Any]] = SETTINGS_SCHEMA

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = MT5Settings.from_settings(settings)
        if self.settings.server_timezone:
            ServerTime(self.settings.server_timezone)  # a bad zone fails here, not at 3 a.m.
        self._client: MT5Client | None = None
        self.closed = False

    def client(self) -> MT5Client:
        """The manager connection, opened on first use with the password read now."""
        if self.closed:
            raise RuntimeError("this MT5 adapter was closed")
        if self._client is None:
            s = self.settings
            self._client = MT5Client(
                s.server,
                s.manager_login,
                s.password(),
                sessions=s.sessions,
                server_timezone=s.server_timezone,
                verify=s.verify,
                timeout=s.timeout,
            )
        return self._client

    # -- accounts -----------------------------------------------------------------------------

    async def create_account(self, spec: AccountSpec) -> OpenedAccount:
        """See ``PlatformAdapter.create_account``: the account carries ``pd:<reference>`` in its
        ``Comment``, the initial deposit in the deal's ``Comment``."""
        client, marker = self.client(), tag(spec.reference)
        group = self.settings.group(spec.group)
        with _mapped():
            found = await self._find_account(group, marker)
        if found is not None:
            login = str(found["Login"])
            if int(found.get("Leverage") or 0) != spec.leverage:
                raise Refused(
                    f"reference {spec.reference} made MT5 account {login} with leverage "
                    f"{found.get('Leverage')}, not {spec.leverage}",
                    vendor_code="reference_reused",
                )
            password = trader_password()  # the first one never reached anybody
            with _mapped(login):
                await client.change_password(login, password)
        else:
            password = trader_password()
            first, _, last = spec.trader_name.partition(" ")
            fields = {
                "PassMain": password,
                "PassInvestor": trader_password(),
                "FirstName": first,
                "LastName": last,
                "Email": spec.trader_email,
                "Comment": marker,
                "LeadSource": "propdesk",
            }
            with _mapped():
                try:
                    user = await client.user_add(group, spec.trader_name, spec.leverage, fields)
                except ConnectionLost as exc:
                    raise TemporarilyUnavailable(
                        f"MT5 did not answer user/add for reference {spec.reference}; a retry "
                        "looks for the account first",
                        vendor_code=str(exc.code),
                    ) from exc
            login = str(user["Login"])
        await self._move(login, spec.initial_balance, spec.reference)
        return OpenedAccount(login, password, self.settings.server_name)

    async def _find_account(self, group: str, marker: str) -> dict[str, Any] | None:
        """The account of the group carrying ``marker``, newest logins first, back to
        ``create_lookback`` (an earlier attempt is recent: the outbox retries within hours)."""
        client = self.client()
        clock = await client.clock()
        cutoff = clock.from_utc(datetime.now(UTC) - self.settings.create_lookback)
        logins = sorted(await client.user_logins(group), key=int, reverse=True)
        for start in range(0, len(logins), 100):
            users = await client.users(logins[start : start + 100])
            for user in users:
                if user.get("Comment") == marker:
                    return user
            if all(int(u.get("Registration") or 0) < cutoff for u in users):
                return None
        return None

    # -- money --------------------------------------------------------------------------------

    async def deposit(self, login: str, amount: Decimal, reference: str) -> BalanceResult:
        """See ``PlatformAdapter.deposit``."""
        _positive(amount)
        return await self._move(login, amount, reference)

    async def withdraw(self, login: str, amount: Decimal, reference: str) -> BalanceResult:
        """See ``PlatformAdapter.withdraw``: MT5 checks the free margin (10019 is ``Refused``)."""
        _positive(amount)
        return await self._move(login, -amount, reference)

    async def _move(self, login: str, change: Decimal, reference: str) -> BalanceResult:
        marker = tag(reference)
        with _mapped(login):
            done = await self._find_operation(login, marker)
            if done is not None:
                return await self._result(login, reference, change, done, already=True)
            try:
                ticket = await self.client().balance(login, change, marker)
            except ConnectionLost as exc:
                # Applied or not? The deals say; only they may decide to send it again.
                done = await self._find_operation(login, marker)
                if done is None:
                    raise TemporarilyUnavailable(
                        f"MT5 did not answer trade/balance for {reference} and the account's "
                        "deals do not show it yet; call again with the same reference",
                        vendor_code=str(exc.code),
                    ) from exc
                return await self._result(login, reference, change, done, already=True)
            deal = await self.client().deal(ticket)
        return await self._result(login, reference, change, deal, already=False)

    async def _find_operation(self, login: str, marker: str) -> dict[str, Any] | None:
        """The account's balance deal tagged ``marker``, searched over its whole life."""
        client = self.client()
        user = await client.user_get(login)
        clock = await client.clock()
        since = max(int(user.get("Registration") or 0) - 86_400, 0)
        until = clock.from_utc(datetime.now(UTC)) + 86_400
        for deal in await client.deals(login, since, until):
            if int(deal["Action"]) == DealAction.BALANCE and deal.get("Comment") == marker:
                return deal
        return None

    async def _result(
        self, login: str, reference: str, change: Decimal, deal: dict[str, Any], *, already: bool
    ) -> BalanceResult:
        amount = _decimal(deal, "Profit")
        if amount != change:
            raise Refused(
                f"reference {reference} already moved {amount} on MT5 account {login} "
                f"(deal {deal['Deal']}), not {change}",
                vendor_code="reference_reused",
            )
        clock = await self.client().clock()
        msc = int(deal.get("TimeMsc") or 0) or int(deal["Time"]) * 1000
        return BalanceResult(
            login, reference, amount, str(deal["Deal"]), clock.to_utc(msc / 1000), already
        )

    # -- trading rights and positions ---------------------------------------------------------

    async def disable_trading(self, login: str) -> None:
        """See ``PlatformAdapter.disable_trading``: sets the ``TRADE_DISABLED`` right."""
        await self._rights(login, set_bits=Rights.TRADE_DISABLED)

    async def enable_trading(self, login: str) -> None:
        """See ``PlatformAdapter.enable_trading``: clears ``TRADE_DISABLED`` and ``READONLY``."""
        await self._rights(login, clear_bits=NOT_TRADING)

    async def _rights(self, login: str, *, set_bits: int = 0, clear_bits: int = 0) -> None:
        client = self.client()
        with _mapped(login):
            rights = int((await client.user_get(login)).get("Rights") or 0)
            wanted = (rights | set_bits) & ~clear_bits
            if wanted != rights:
                await client.user_update(login, {"Rights": str(wanted)})

    async def close_all_positions(self, login: str) -> tuple[str, ...]:
        """See ``PlatformAdapter.close_all_positions``: one dealer request per position (Action
        200 against the position's ticket), polled until executed."""
        client = self.client()
        with _mapped(login):
            await client.user_get(login)
            positions = await client.positions(login)
            requests: dict[str, str] = {}
            for held in positions:
                request = {
                    "Action": "200",
                    "Login": login,
                    "Symbol": held["Symbol"],
                    "Volume": str(held["Volume"]),
                    "Type": "1" if int(held["Action"]) == PositionAction.BUY else "0",
                    "Position": str(held["Position"]),
                    "PriceOrder": str(held.get("PriceCurrent") or ""),
                    "Digits": str(held.get("Digits") or ""),
                    "TypeFill": "0",
                }
                with contextlib.suppress(ConnectionLost):  # the re-read below sees what it did
                    requests[await client.dealer_send(request)] = str(held["Position"])
            closed = await self._await_requests(requests)
            still = {str(p["Position"]) for p in await client.positions(login)}
        left = still & {str(p["Position"]) for p in positions}
        if left:
            raise TemporarilyUnavailable(
                f"{len(left)} position(s) of MT5 account {login} are still open after the "
                f"dealer's close requests: {', '.join(sorted(left))}",
                vendor_code=str(int(Retcode.REQUEST_TIMEOUT)),
            )
        return tuple(p for p in (str(h["Position"]) for h in positions) if p in closed)

    async def _await_requests(self, requests: dict[str, str]) -> set[str]:
        """Positions whose close request executed (10009), polling until none is pending."""
        pending, closed = dict(requests), set()
        deadline = time.monotonic() + self.settings.close_timeout
        delay = 0.02
        while pending and time.monotonic() < deadline:
            results = await self.client().dealer_results(pending)
            for request_id, result in results.items():
                code, _ = parse_retcode(result.get("Retcode", "10001"))
                if code in REQUEST_PENDING:
                    continue
                position = pending.pop(request_id)
                if code == Retcode.REQUEST_DONE:
                    closed.add(position)
            if pending:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
        return closed

    # -- reading ------------------------------------------------------------------------------

    async def account_state(self, login: str) -> AccountState:
        """See ``PlatformAdapter.account_state``."""
        client = self.client()
        with _mapped(login):
            clock = await client.clock()
            as_of = datetime.now(UTC)
            user = await client.user_get(login)
            balance, equity, margin, free = await self._money(login, user)
            positions = tuple(self._position(p, clock) for p in await client.positions(login))
        rights = int(user.get("Rights") or 0)
        enabled = bool(rights & Rights.ENABLED) and not rights & NOT_TRADING
        return AccountState(login, balance, equity, margin, free, positions, enabled, as_of)

    async def _money(
        self, login: str, user: dict[str, Any] | None = None
    ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """Balance, equity, margin and free margin. An account that has not traded since the
        server started has no trade state: then equity is balance plus credit."""
        client = self.client()
        try:
            account = await client.trade_account(login)
        except NotFound:
            user = user or await client.user_get(login)
            balance = _decimal(user, "Balance")
            equity = balance + _decimal(user, "Credit")
            return balance, equity, Decimal(0), equity
        return (
            _decimal(account, "Balance"),
            _decimal(account, "Equity"),
            _decimal(account, "Margin"),
            _decimal(account, "MarginFree"),
        )

    @staticmethod
    def _position(held: dict[str, Any], clock: ServerTime) -> Position:
        msc = int(held.get("TimeCreateMsc") or 0) or int(held.get("TimeCreate") or 0) * 1000
        return Position(
            id=str(held["Position"]),
            symbol=str(held["Symbol"]),
            side="buy" if int(held["Action"]) == PositionAction.BUY else "sell",
            volume=to_lots(held["Volume"]),
            open_price=_decimal(held, "PriceOpen"),
            current_price=_decimal(held, "PriceCurrent"),
            profit=_decimal(held, "Profit"),
            swap=_decimal(held, "Storage"),
            opened_at=clock.to_utc(msc / 1000),
        )

    async def events(self, login: str, cursor: str | None) -> EventBatch:
        """See ``PlatformAdapter.events``: one reading of balance and equity, then the deals
        since the cursor (looking back ``events.OVERLAP_MS``, dropping the tickets handed over)."""
        client = self.client()
        state = Cursor.load(cursor, login)
        with _mapped(login):
            clock = await client.clock()
            read_at = datetime.now(UTC)
            balance, equity, _, _ = await self._money(login)
            if state.opened:
                since = (state.deal_msc - OVERLAP_MS) // 1000 - 1
            else:
                registered = int((await client.user_get(login)).get("Registration") or 0)
                since = max(registered - 60, 0)
            until = clock.from_utc(datetime.now(UTC) + timedelta(minutes=1))
            deals = await client.deals(login, since, until)
        events, after, more = build_batch(
            state,
            deals,
            Reading(read_at, balance, equity),
            clock,
            limit=BATCH_LIMIT,
            heartbeat=self.settings.heartbeat,
        )
        if not events and cursor is not None:
            return EventBatch((), cursor)
        return EventBatch(tuple(events), prune(after, deals).dump(), more)

    async def close(self) -> None:
        """See ``PlatformAdapter.close``: logs the manager sessions out. Idempotent."""
        self.closed = True
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _positive(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount must be a positive Decimal, not {amount!r}")
