"""Shared helpers of the MT5 plugin's tests: a raw MT5 Web API session over httpx (deliberately
not the plugin's client) for the simulator's own tests, and the contract suite's harness."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any, Literal

import httpx

from propdesk.platforms.contract import AccountSpec, Refused
from propdesk_mt5.adapter import MT5Platform
from propdesk_mt5.protocol import Retcode, parse_retcode, password_hash, rand_answer
from propdesk_mt5.simulator import RunningSimulator

MANAGER, MANAGER_PASSWORD = 1000, "Manager#1"
GROUP = "demo\\challenge-phase1"
PASSWORDS = {"PassMain": "Trader#2024", "PassInvestor": "Invest#2024"}


class Wire:
    """One keep-alive connection to the simulator, as the MT5 Web API wants."""

    def __init__(self, url: str, cookies: dict[str, str] | None = None) -> None:
        self.http = httpx.AsyncClient(
            base_url=url,
            timeout=10,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            cookies=cookies,
        )

    async def get(self, command: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(f"/api/{command}", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def post(self, command: str, body: Any, **params: Any) -> dict[str, Any]:
        response = await self.http.post(f"/api/{command}", params=params, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def start(self, login: int = MANAGER) -> dict[str, Any]:
        params = {"version": 5200, "agent": "propdesk-tests", "login": login, "type": "manager"}
        return await self.get("auth/start", **params)

    async def login(self, login: int = MANAGER, password: str = MANAGER_PASSWORD) -> dict[str, Any]:
        """The challenge-response handshake; checks the server's answer to our challenge."""
        started = await self.start(login)
        assert started["retcode"] == "0 Done", started
        hashed = password_hash(password)
        cli_rand = secrets.token_hex(16)
        answer = rand_answer(hashed, started["srv_rand"])
        answered = await self.get("auth/answer", srv_rand_answer=answer, cli_rand=cli_rand)
        if answered["retcode"] == "0 Done":
            assert answered["cli_rand_answer"] == rand_answer(hashed, cli_rand)
        return answered

    async def add_user(self, group: str = GROUP, leverage: int = 100, **body: Any) -> int:
        reply = await self.post(
            "user/add", {**PASSWORDS, **body}, group=group, name="Test Trader", leverage=leverage
        )
        assert reply["retcode"] == "0 Done", reply
        return int(reply["login"])

    async def deposit(self, login: int, amount: str, comment: str = "deposit") -> int:
        reply = await self.get(
            "trade/balance", login=login, type=2, balance=amount, comment=comment
        )
        assert reply["retcode"] == "0 Done", reply
        return int(reply["answer"]["Ticket"])

    async def aclose(self) -> None:
        await self.http.aclose()


# -- the platform contract suite's harness ---------------------------------------------------

#: The simulator path each contract command's first unsafe (or decisive) request goes to.
COMMAND_PATHS = {
    "create_account": "/api/user/add",
    "deposit": "/api/trade/balance",
    "withdraw": "/api/trade/balance",
    "events": "/api/deal/get_batch",
    "account_state": "/api/user/get",
    "disable_trading": "/api/user/update",
    "close_all_positions": "/api/dealer/send_request",
}
PASSWORD_ENV = "PROPDESK_TEST_MT5_PASSWORD"


def adapter_settings(sim: RunningSimulator, **changes: Any) -> dict[str, Any]:
    """A desk's mt5 settings pointing at ``sim`` (the password from ``PASSWORD_ENV``)."""
    login, _ = sim.manager
    return {
        "server": sim.url,
        "manager_login": login,
        "password": {"env": PASSWORD_ENV},
        "server_name": "Propdesk-Demo",
        "server_timezone": "+02:00",
        "close_timeout_seconds": 5,
        **changes,
    }


class MT5Harness:
    """``PlatformHarness`` over the simulator: the trader trades through its control API (the
    terminal's side), faults are injected on the wire path of each command."""

    unknown_group = "demo\\no-such-group"
    symbol = "EURUSD"
    price = Decimal("1.10000")

    def __init__(self, sim: RunningSimulator, adapter: MT5Platform) -> None:
        self.sim = sim
        self.control = sim.control
        self.adapter = adapter

    def spec(self, reference: str, *, initial_balance: Decimal = Decimal("100000")) -> AccountSpec:
        return AccountSpec(
            reference, GROUP, 100, initial_balance, "USD", "Ada Trader", "ada@example.com"
        )

    async def set_price(self, symbol: str, price: Decimal) -> None:
        await self.control.set_prices({symbol: str(price)})

    async def open_position(self, login: str, side: Literal["buy", "sell"], volume: Decimal) -> str:
        return _filled(await self.control.open_order(int(login), self.symbol, side, volume))

    async def close_position(self, login: str, position_id: str) -> None:
        _filled(await self.control.close_position(int(login), position_id))

    async def trading_enabled(self, login: str) -> bool:
        return bool((await self.control.account(login))["can_trade"])

    async def balance(self, login: str) -> Decimal:
        return Decimal((await self.control.account(login))["user"]["Balance"])

    async def password_works(self, login: str, password: str) -> bool:
        wire = Wire(self.sim.url)
        try:
            await wire.login()
            answer = await wire.get(
                "user/check_password", login=login, type="main", password=password
            )
        finally:
            await wire.aclose()
        return bool(answer["retcode"] == "0 Done")

    async def fail_next(self, command: str) -> None:
        await self.control.add_fault(COMMAND_PATHS[command], "retcode", retcode="10 No connection")

    async def drop_next_response(self, command: str) -> None:
        await self.control.add_fault(COMMAND_PATHS[command], "drop_after")

    async def aclose(self) -> None:
        await self.adapter.close()


def _filled(answer: dict[str, Any]) -> str:
    code, text = parse_retcode(answer["retcode"])
    if code != Retcode.REQUEST_DONE:
        raise Refused(f"the simulator refused the order: {code} {text}", vendor_code=str(code))
    return str(answer["position"])
