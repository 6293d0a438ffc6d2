"""``SimulatorControl``: an async client of the simulator's control API (``/__sim__/``), one
method per route."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from propdesk.testing.simulators import ControlClient


class SimulatorControl(ControlClient):
    """An async client of the control API (make it with ``verify=False`` for a simulator
    serving a self-signed certificate)."""

    async def health(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/health"))

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def add_manager(self, login: int, password: str) -> None:
        await self._call("POST", "/managers", {"login": login, "password": password})

    async def groups(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/groups"))

    async def add_group(
        self,
        group: str,
        *,
        currency: str = "USD",
        stopout: str | Decimal = "50",
        margin_call: str | Decimal = "100",
        commission_per_lot: str | Decimal = "0",
    ) -> None:
        body = {"group": group, "currency": currency, "stopout": str(stopout)}
        body |= {"margin_call": str(margin_call), "commission_per_lot": str(commission_per_lot)}
        await self._call("POST", "/groups", body)

    async def prices(self) -> dict[str, dict[str, Any]]:
        return dict(await self._call("GET", "/prices"))

    async def set_prices(self, bids: Mapping[str, str | Decimal | float]) -> dict[str, Any]:
        return dict(await self._call("POST", "/prices", {k: str(v) for k, v in bids.items()}))

    async def market(
        self,
        *,
        running: bool | None = None,
        tick_seconds: float | None = None,
        seed: int | None = None,
        trends: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"running": running, "tick_seconds": tick_seconds, "seed": seed}
        body["trends"] = dict(trends) if trends else None
        return dict(await self._call("POST", "/market", body))

    async def market_state(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/market"))

    async def step(self, ticks: int = 1) -> dict[str, Any]:
        return dict(await self._call("POST", "/market/step", {"ticks": ticks}))

    async def open_order(
        self, login: int, symbol: str, side: str, volume: str | Decimal, comment: str = ""
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"login": login, "symbol": symbol, "side": side}
        body |= {"volume": str(volume), "comment": comment}
        return dict(await self._call("POST", "/orders", body))

    async def close_position(
        self, login: int, position: int | str, volume: str | Decimal | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"login": login, "position": int(position)}
        body |= {"volume": str(volume)} if volume is not None else {}
        return dict(await self._call("POST", "/positions/close", body))

    async def accounts(self) -> list[int]:
        return list((await self._call("GET", "/accounts"))["logins"])

    async def account(self, login: int | str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/accounts/{int(login)}"))

    async def add_fault(
        self,
        path: str,
        action: str,
        *,
        count: int = 1,
        retcode: str | int | None = None,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        body = {"path": path, "action": action, "count": count}
        body |= {"retcode": retcode, "seconds": seconds}
        return dict(await self._call("POST", "/faults", body))

    async def faults(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/faults"))

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def sessions(self) -> dict[str, int]:
        return dict(await self._call("GET", "/sessions"))

    async def expire_sessions(self) -> int:
        return int((await self._call("POST", "/sessions/expire"))["expired"])

    async def clock(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/clock"))

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        return dict(await self._call("POST", "/clock", {"advance_seconds": seconds}))

    async def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/requests", path=path))

    async def clear_requests(self) -> None:
        await self._call("DELETE", "/requests")

    async def traders(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/traders"))

    async def start_trader(
        self, login: int, profile: str, seed: int | None = None
    ) -> dict[str, Any]:
        body = {"login": login, "profile": profile, "seed": seed}
        return dict(await self._call("POST", "/traders", body))

    async def stop_trader(self, login: int) -> bool:
        return bool((await self._call("DELETE", f"/traders/{int(login)}"))["stopped"])

    async def stop_traders(self) -> None:
        await self._call("DELETE", "/traders")

    async def snapshot(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/snapshot"))
