"""An async client of the MT5 Web API (the managers' HTTPS API), for any Python program.

``MT5Client`` keeps a small pool of authenticated manager sessions (``session.MT5Session``),
pings the idle ones before the server's 180 s timeout, and exposes the commands a CRM needs as
methods returning the server's JSON records (numbers arrive as strings; convert at the edge).
Times on the wire are server time: ``clock()`` gives the ``ServerTime`` to convert them, from
the configured zone or, when none is configured, measured against ``time/server``.

No propdesk import here: the client is the vendor protocol, the adapter maps it to the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from typing import Any

import httpx

from propdesk_mt5.protocol import PING_SECONDS, DealAction, ServerTime
from propdesk_mt5.session import MT5Session

#: Logins per ``get_batch`` call and positions per page: keeps answers and URLs small.
BATCH = 100


class MT5Client:
    """Manager access to one MT5 server through ``sessions`` parallel sessions (at most 4:
    the server answers ``12 Too frequent requests`` to more)."""

    def __init__(
        self,
        url: str,
        login: int,
        password: str,
        *,
        sessions: int = 2,
        server_timezone: str | None = None,
        agent: str = "propdesk",
        verify: bool | str = True,
        timeout: float = 10.0,
        ping_seconds: float = PING_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not 1 <= sessions <= 4:
            raise ValueError(f"sessions must be 1 to 4, not {sessions}")
        self.url = url
        self.login = login
        self._sessions = [
            MT5Session(
                url,
                login,
                password,
                agent=agent,
                verify=verify,
                timeout=timeout,
                transport=transport,
            )
            for _ in range(sessions)
        ]
        self._idle: asyncio.Queue[MT5Session] | None = None
        self._clock = ServerTime(server_timezone) if server_timezone else None
        self._ping_seconds = ping_seconds
        self._pinger: asyncio.Task[None] | None = None
        self.closed = False

    @property
    def logins(self) -> int:
        """Authentications so far across the sessions (re-establishments included)."""
        return sum(s.logins for s in self._sessions)

    # -- sessions -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[MT5Session]:
        if self.closed:
            raise RuntimeError("this MT5Client was closed")
        if self._idle is None:
            self._idle = asyncio.Queue()
            for session in self._sessions:
                self._idle.put_nowait(session)
            if self._ping_seconds:
                self._pinger = asyncio.create_task(self._ping(), name="mt5-pinger")
        session = await self._idle.get()
        try:
            yield session
        finally:
            self._idle.put_nowait(session)

    async def call(
        self,
        command: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        *,
        safe: bool = True,
    ) -> dict[str, Any]:
        """Any Web API command on a free session (see ``MT5Session.request``)."""
        async with self._session() as session:
            return await session.request(command, params, body, safe=safe)

    async def _ping(self) -> None:
        assert self._idle is not None
        while not self.closed:
            await asyncio.sleep(self._ping_seconds / 2)
            for _ in range(self._idle.qsize()):
                session = self._idle.get_nowait()
                try:
                    idle = time.monotonic() - session.last_used
                    if session.authenticated and idle >= self._ping_seconds:
                        with contextlib.suppress(Exception):
                            await session.ping()
                finally:
                    self._idle.put_nowait(session)

    async def close(self) -> None:
        """Log every session out and close the connections. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        for session in self._sessions:
            await session.close()

    # -- time ---------------------------------------------------------------------------------

    async def server_time(self) -> int:
        """The server's clock now, in server seconds (``time/server``)."""
        answer = (await self.call("time/server"))["answer"]
        return int(str(answer["time"]).split()[0])

    async def clock(self) -> ServerTime:
        """How server times convert to UTC: the configured zone, or the offset measured now
        against the server's clock (rounded to 15 minutes), which is exact until the server's
        next daylight-saving change; configure the zone to be exact across it."""
        if self._clock is None:
            before = time.time()
            server = await self.server_time()
            local = (before + time.time()) / 2
            minutes = round((server - local) / 900) * 15
            self._clock = ServerTime.fixed(minutes)
        return self._clock

    # -- users --------------------------------------------------------------------------------

    async def user_add(
        self, group: str, name: str, leverage: int, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """``user/add``: a new account (login allocated by the server); ``fields`` carry the
        passwords (``PassMain``, ``PassInvestor``) and the rest of the record. Not safe to
        repeat: a lost answer raises ``ConnectionLost``."""
        body = {"Group": group, "Name": name, "Leverage": str(leverage), **fields}
        answer = await self.call(
            "user/add", {"group": group, "name": name, "leverage": leverage}, body, safe=False
        )
        user: dict[str, Any] = answer["answer"]
        return user

    async def user_get(self, login: int | str) -> dict[str, Any]:
        user: dict[str, Any] = (await self.call("user/get", {"login": login}))["answer"]
        return user

    async def users(self, logins: Iterable[int | str]) -> list[dict[str, Any]]:
        """``user/get_batch`` by logins, ``BATCH`` at a time."""
        wanted = [str(login) for login in logins]
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH):
            chunk = ",".join(wanted[start : start + BATCH])
            found.extend((await self.call("user/get_batch", {"login": chunk}))["answer"] or [])
        return found

    async def user_logins(self, group: str) -> list[str]:
        """``user/logins``: the logins of the groups matching ``group`` (a mask)."""
        answer = (await self.call("user/logins", {"group": group}))["answer"] or []
        return [str(login) for login in answer]

    async def user_update(self, login: int | str, fields: dict[str, Any]) -> dict[str, Any]:
        """``user/update`` with the changed fields of the record (safe: it sets values)."""
        answer = await self.call("user/update", {"login": login}, fields)
        user: dict[str, Any] = answer["answer"]
        return user

    async def change_password(self, login: int | str, password: str, kind: str = "main") -> None:
        await self.call(
            "user/change_password", {"login": login, "type": kind}, {"Password": password}
        )

    async def trade_account(self, login: int | str) -> dict[str, Any]:
        """``user/account/get``: balance, equity, margin. ``NotFound`` for an account that has
        not traded since the server started: read ``user_get`` then (equity = balance +
        credit)."""
        account: dict[str, Any] = (await self.call("user/account/get", {"login": login}))["answer"]
        return account

    # -- money --------------------------------------------------------------------------------

    async def balance(
        self,
        login: int | str,
        amount: Decimal,
        comment: str,
        *,
        action: DealAction = DealAction.BALANCE,
        check_margin: bool = True,
    ) -> str:
        """``trade/balance``: a signed balance operation; returns the deal ticket. Not safe to
        repeat: MT5 has no idempotency key, so look for ``comment`` in the deals first."""
        answer = await self.call(
            "trade/balance",
            {
                "login": login,
                "type": int(action),
                "balance": f"{amount:f}",
                "comment": comment,
                "check_margin": int(check_margin),
            },
            safe=False,
        )
        return str(answer["answer"]["Ticket"])

    # -- positions and deals ------------------------------------------------------------------

    async def positions(self, login: int | str) -> list[dict[str, Any]]:
        """Every open position of the account (``position/get_batch``)."""
        answer = await self.call("position/get_batch", {"login": login})
        positions: list[dict[str, Any]] = answer["answer"] or []
        return positions

    async def deals(self, login: int | str, since: int, until: int) -> list[dict[str, Any]]:
        """The account's deals with ``since <= Time <= until`` (server seconds)."""
        answer = await self.call("deal/get_batch", {"login": login, "from": since, "to": until})
        deals: list[dict[str, Any]] = answer["answer"] or []
        return deals

    async def deal(self, ticket: int | str) -> dict[str, Any]:
        found: dict[str, Any] = (await self.call("deal/get", {"ticket": ticket}))["answer"]
        return found

    # -- dealing ------------------------------------------------------------------------------

    async def dealer_send(self, request: dict[str, Any]) -> str:
        """``dealer/send_request``; returns the request id to poll. Not safe to repeat."""
        answer = await self.call("dealer/send_request", None, request, safe=False)
        return str(answer["answer"]["ID"])

    async def dealer_results(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """``dealer/get_request_result``: the confirmation (``Retcode``, ``Deal``, ``Price``)
        of each request id that has one."""
        wanted = list(ids)
        answer = await self.call("dealer/get_request_result", {"id": ",".join(wanted)})
        results: dict[str, dict[str, Any]] = {}
        for request_id in wanted:
            parts = answer.get(request_id) or []
            for part in parts:
                if isinstance(part, dict) and "result" in part:
                    results[request_id] = part["result"]
        return results
