"""The control API under ``/__sim__/`` (JSON, no auth) that tests and demos use to seed, move
and break the simulator; ``SimulatorControl`` (in ``control_client``) is its async client."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from propdesk_mt5.protocol import DealReason, Retcode, Rights, to_volume
from propdesk_mt5.simulator.control_client import SimulatorControl
from propdesk_mt5.simulator.core import Simulator
from propdesk_mt5.simulator.faults import Fault
from propdesk_mt5.simulator.records import Group, Refusal, fmt_money, fmt_price, to_decimal
from propdesk_mt5.simulator.rules import may_trade

__all__ = ["SimulatorControl", "account_view", "control_router"]

Data = JSONBody[dict[str, Any]]


def _refused(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, str]]:
    retcode = exc.retcode if isinstance(exc, Refusal) else Retcode.ERR_PARAMS
    return Response({"retcode": str(retcode), "detail": str(exc)}, status_code=400)


def account_view(sim: Simulator, login: int) -> dict[str, Any]:
    book = sim.book
    user = book.users.get(login)
    if user is None:
        raise NotFoundException(f"no account {login}")
    positions = sorted(book.positions_of(login), key=lambda p: p.ticket)
    trader = sim.traders.traders.get(login)
    return {
        "login": login,
        "group": user.group,
        "rights": user.rights,
        "rights_flags": [flag.name for flag in Rights if user.rights & flag],
        "can_trade": may_trade(user.rights),
        "has_trade_state": user.traded,
        "user": user.wire(),
        "account": book.state(login).wire(user),
        "positions": [p.wire(*book.valuation(p)) for p in positions],
        "balance_ops": fmt_money(book.balance_ops.get(login, Decimal(0))),
        "trader": trader.profile.name if trader else None,
    }


def prices_view(sim: Simulator) -> dict[str, Any]:
    return {
        q.symbol: {
            "bid": fmt_price(q.bid, q.digits),
            "ask": fmt_price(q.ask, q.digits),
            "digits": q.digits,
            "contract_size": f"{q.contract_size}",
            "trend": q.trend,
        }
        for q in sim.market.quotes()
    }


def market_view(sim: Simulator) -> dict[str, Any]:
    return {
        "running": sim.running,
        "tick_seconds": sim.tick_seconds,
        "seed": sim.market.seed,
        "ticks": sim.market.ticks,
    }


def clock_view(sim: Simulator) -> dict[str, Any]:
    return {
        "server_time": sim.server_seconds(),
        "server_time_msc": sim.server_msc(),
        "offset_seconds": sim.clock.offset.total_seconds(),
        "timezone_minutes": sim.offset_minutes(),
    }


def _side(value: Any) -> int:
    side = str(value).lower()
    if side not in ("buy", "sell", "0", "1"):
        raise Refusal(Retcode.ERR_PARAMS, "side is buy or sell")
    return 0 if side in ("buy", "0") else 1


def _volume(value: Any) -> int:
    try:
        return to_volume(to_decimal(value))
    except ValueError:
        raise Refusal(Retcode.REQUEST_INVALID_VOLUME) from None


def control_router(sim: Simulator) -> Router:
    lock = sim.lock

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, Any]:
        return {"status": "ok", "server_name": sim.config.server_name, **clock_view(sim)}

    @post("/reset", status_code=200, sync_to_thread=False)
    def reset() -> dict[str, Any]:
        sim.reset()
        return {"ok": True}

    @post("/managers", status_code=200, sync_to_thread=False)
    def add_manager(data: Data) -> dict[str, Any]:
        sim.add_manager(int(data["login"]), str(data["password"]))
        return {"ok": True}

    @get("/groups", sync_to_thread=False)
    def groups() -> list[dict[str, Any]]:
        with lock:
            return [
                {"group": g.name, "currency": g.currency, "stopout": f"{g.stopout}",
                 "margin_call": f"{g.margin_call}", "commission_per_lot": f"{g.commission_per_lot}"}
                for g in sim.book.groups.values()
            ]  # fmt: skip

    @post("/groups", status_code=200, sync_to_thread=False)
    def add_group(data: Data) -> dict[str, Any]:
        group = Group(
            str(data["group"]),
            str(data.get("currency", "USD")),
            stopout=to_decimal(data.get("stopout", "50")),
            margin_call=to_decimal(data.get("margin_call", "100")),
            commission_per_lot=to_decimal(data.get("commission_per_lot", "0")),
        )
        with lock:
            sim.book.add_group(group)
        return {"ok": True}

    @get("/prices", sync_to_thread=False)
    def prices() -> dict[str, Any]:
        with lock:
            return prices_view(sim)

    @post("/prices", status_code=200, sync_to_thread=False)
    def set_prices(data: Data) -> dict[str, Any]:
        with lock:
            sim.touch()
            for symbol, bid in data.items():
                sim.market.set_bid(symbol, to_decimal(bid))
            sim.after_prices()
            return prices_view(sim)

    @get("/market", sync_to_thread=False)
    def market() -> dict[str, Any]:
        return market_view(sim)

    @post("/market", status_code=200, sync_to_thread=False)
    def set_market(data: Data) -> dict[str, Any]:
        with lock:
            if data.get("seed") is not None:
                sim.market.reseed(int(data["seed"]))
            for symbol, trend in (data.get("trends") or {}).items():
                sim.market.set_trend(symbol, int(trend))
        tick, running = data.get("tick_seconds"), data.get("running")
        if isinstance(running, str):
            running = running.lower() in ("1", "true", "yes", "on")
        sim.set_market(running, None if tick is None else float(tick))
        return market_view(sim)

    @post("/market/step", status_code=200, sync_to_thread=False)
    def step(data: Data) -> dict[str, Any]:
        sim.tick(int(data.get("ticks", 1)))
        return market_view(sim)

    @post("/orders", status_code=200, sync_to_thread=False)
    def open_order(data: Data) -> dict[str, Any]:
        try:
            with lock:
                sim.touch()
                fill = sim.book.open(
                    int(data["login"]),
                    str(data["symbol"]),
                    _side(data["side"]),
                    _volume(data["volume"]),
                    reason=DealReason.CLIENT,
                    comment=str(data.get("comment", "")),
                )
        except Refusal as refusal:
            return {"retcode": str(refusal.retcode)}
        deal = fill.deal
        return {
            "retcode": str(Retcode.REQUEST_DONE),
            "position": str(fill.position.ticket),
            "deal": str(deal.ticket),
            "order": str(deal.order),
            "price": fmt_price(deal.price, deal.digits),
        }

    @post("/positions/close", status_code=200, sync_to_thread=False)
    def close_position(data: Data) -> dict[str, Any]:
        volume = data.get("volume")
        try:
            with lock:
                sim.touch()
                fill = sim.book.close(
                    int(data["position"]),
                    _volume(volume) if volume not in (None, "") else 0,
                    reason=DealReason.CLIENT,
                    login=int(data["login"]),
                )
        except Refusal as refusal:
            return {"retcode": str(refusal.retcode)}
        deal = fill.deal
        return {
            "retcode": str(Retcode.REQUEST_DONE),
            "position": str(fill.position.ticket),
            "deal": str(deal.ticket),
            "volume": str(deal.volume),
            "price": fmt_price(deal.price, deal.digits),
            "profit": fmt_money(deal.profit),
            "remaining": str(fill.position.volume),
        }

    @get("/accounts", sync_to_thread=False)
    def accounts() -> dict[str, Any]:
        with lock:
            return {"logins": sorted(sim.book.users)}

    @get("/accounts/{login:int}", sync_to_thread=False)
    def account(login: FromPath[int]) -> dict[str, Any]:
        with lock:
            sim.touch()
            return account_view(sim, login)

    @get("/faults", sync_to_thread=False)
    def faults() -> list[dict[str, Any]]:
        with lock:
            return [f.wire() for f in sim.faults.rules]

    @post("/faults", status_code=200, sync_to_thread=False)
    def add_fault(data: Data) -> dict[str, Any]:
        fault = Fault(
            path=str(data["path"]),
            action=str(data["action"]),
            count=int(data.get("count", 1)),
            retcode=str(data.get("retcode") or ""),
            seconds=float(data.get("seconds") or 0),
        )
        with lock:
            sim.faults.add(fault)
        return fault.wire()

    @delete("/faults", status_code=200, sync_to_thread=False)
    def clear_faults() -> dict[str, Any]:
        with lock:
            sim.faults.clear()
        return {"ok": True}

    @get("/sessions", sync_to_thread=False)
    def sessions() -> dict[str, Any]:
        with lock:
            return sim.sessions.counts(time.monotonic())

    @post("/sessions/expire", status_code=200, sync_to_thread=False)
    def expire_sessions() -> dict[str, Any]:
        with lock:
            return {"expired": sim.sessions.expire_all()}

    @get("/clock", sync_to_thread=False)
    def clock() -> dict[str, Any]:
        return clock_view(sim)

    @post("/clock", status_code=200, sync_to_thread=False)
    def advance_clock(data: Data) -> dict[str, Any]:
        sim.advance_clock(float(data.get("advance_seconds", 0)))
        return clock_view(sim)

    @get("/requests", sync_to_thread=False)
    def requests(path: FromQuery[str | None] = None) -> list[dict[str, Any]]:
        with lock:
            return sim.log.select(path)

    @delete("/requests", status_code=200, sync_to_thread=False)
    def clear_requests() -> dict[str, Any]:
        with lock:
            sim.log.clear()
        return {"ok": True}

    @get("/traders", sync_to_thread=False)
    def traders() -> list[dict[str, Any]]:
        return sim.traders.wire()

    @post("/traders", status_code=200, sync_to_thread=False)
    def start_trader(data: Data) -> dict[str, Any]:
        seed = data.get("seed")
        trader = sim.traders.start(
            int(data["login"]), str(data["profile"]), None if seed is None else int(seed)
        )
        return trader.wire()

    @delete("/traders", status_code=200, sync_to_thread=False)
    def stop_traders() -> dict[str, Any]:
        sim.traders.stop_all()
        return {"ok": True}

    @delete("/traders/{login:int}", status_code=200, sync_to_thread=False)
    def stop_trader(login: FromPath[int]) -> dict[str, Any]:
        return {"stopped": sim.traders.stop(login)}

    @get("/snapshot", sync_to_thread=False)
    def snapshot() -> dict[str, Any]:
        with lock:
            return {
                "clock": clock_view(sim),
                "market": market_view(sim),
                "prices": prices_view(sim),
                "accounts": [account_view(sim, login) for login in sorted(sim.book.users)],
                "deals": [deal.wire() for deal in sim.book.deals],
            }

    return Router(
        "/__sim__",
        route_handlers=[
            health,
            reset,
            add_manager,
            groups,
            add_group,
            prices,
            set_prices,
            market,
            set_market,
            step,
            open_order,
            close_position,
            accounts,
            account,
            faults,
            add_fault,
            clear_faults,
            sessions,
            expire_sessions,
            clock,
            advance_clock,
            requests,
            clear_requests,
            traders,
            start_trader,
            stop_traders,
            stop_trader,
            snapshot,
        ],
        exception_handlers={Refusal: _refused, ValueError: _refused, KeyError: _refused},
    )
