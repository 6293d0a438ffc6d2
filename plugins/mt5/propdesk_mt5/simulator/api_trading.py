"""Wire commands on positions, deals, dealer requests, symbols and ticks."""

from __future__ import annotations

from typing import Any

from propdesk_mt5.protocol import Retcode
from propdesk_mt5.simulator.records import Deal, Position, Refusal, fmt_price
from propdesk_mt5.simulator.wire import Call, command, page, selector


def _position(call: Call, position: Position) -> dict[str, Any]:
    price, profit, margin_price = call.sim.book.valuation(position)
    return position.wire(price, profit, margin_price)


def _positions_of(call: Call, login: int) -> list[Position]:
    call.sim.book.user(login)
    return sorted(call.sim.book.positions_of(login), key=lambda p: p.ticket)


def _with_symbol(call: Call, items: list[Any]) -> list[Any]:
    symbols = {s for s in (call.param("symbol") or "").split(",") if s}
    return [item for item in items if not symbols or item.symbol in symbols]


@command("/api/position/get_total")
def position_get_total(call: Call) -> dict[str, Any]:
    return {"answer": {"total": str(len(_positions_of(call, call.integer("login"))))}}


@command("/api/position/get_page")
def position_get_page(call: Call) -> dict[str, Any]:
    positions = page(call, _positions_of(call, call.integer("login")))
    return {"answer": [_position(call, p) for p in positions]}


@command("/api/position/get")
def position_get(call: Call) -> dict[str, Any]:
    symbol = call.required("symbol")
    for position in _positions_of(call, call.integer("login")):
        if position.symbol == symbol:
            return {"answer": _position(call, position)}
    raise Refusal(Retcode.ERR_NOTFOUND, f"no {symbol} position")


@command("/api/position/get_batch")
def position_get_batch(call: Call) -> dict[str, Any]:
    book = call.sim.book
    by = selector(call, ("login", "group", "ticket"))
    if by == "ticket":
        wanted = set(call.ints("ticket"))
        positions = [p for t, p in sorted(book.positions.items()) if t in wanted]
    else:
        logins = (
            set(call.ints("login"))
            if by == "login"
            else {u.login for u in book.users_in(call.required("group"))}
        )
        positions = [p for _, p in sorted(book.positions.items()) if p.login in logins]
    return {"answer": [_position(call, p) for p in _with_symbol(call, positions)]}


def _window(call: Call) -> tuple[int, int]:
    if not call.param("from") or not call.param("to"):
        raise Refusal(Retcode.ERR_PARAMS, "from and to are required")
    return call.integer("from"), call.integer("to")


def _deals_of(call: Call, login: int) -> list[Deal]:
    call.sim.book.user(login)
    since, until = _window(call)
    return call.sim.book.deals_of([login], since, until)


@command("/api/deal/get_total")
def deal_get_total(call: Call) -> dict[str, Any]:
    return {"answer": {"total": str(len(_deals_of(call, call.integer("login"))))}}


@command("/api/deal/get_page")
def deal_get_page(call: Call) -> dict[str, Any]:
    deals = page(call, _deals_of(call, call.integer("login")))
    return {"answer": [d.wire() for d in deals]}


@command("/api/deal/get")
def deal_get(call: Call) -> dict[str, Any]:
    deal = call.sim.book.deal_index.get(call.integer("ticket"))
    if deal is None:
        raise Refusal(Retcode.ERR_NOTFOUND, "no such deal")
    return {"answer": deal.wire()}


@command("/api/deal/get_batch")
def deal_get_batch(call: Call) -> dict[str, Any]:
    book = call.sim.book
    by = selector(call, ("login", "group", "ticket"))
    if by == "ticket":
        index = book.deal_index
        deals = [index[t] for t in sorted(set(call.ints("ticket"))) if t in index]
        if call.param("from") or call.param("to"):
            since, until = _window(call)
            deals = [d for d in deals if since <= d.time <= until]
    else:
        since, until = _window(call)
        logins = (
            call.ints("login")
            if by == "login"
            else [u.login for u in book.users_in(call.required("group"))]
        )
        deals = book.deals_of(logins, since, until)
    return {"answer": [d.wire() for d in _with_symbol(call, deals)]}


@command("/api/dealer/send_request")
def dealer_send_request(call: Call) -> dict[str, Any]:
    request = call.sim.dealer.submit(call.body, call.manager, call.sim.clock.timestamp())
    return {"answer": {"ID": str(request.id)}}


@command("/api/dealer/get_request_result")
def dealer_get_request_result(call: Call) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for request_id in call.ints("id"):
        request = call.sim.dealer.poll(request_id)
        if request is not None:
            results[str(request_id)] = request.wire()
    if not results:
        raise Refusal(Retcode.ERR_NOTFOUND, "no such request")
    return results


@command("/api/symbol/get")
def symbol_get(call: Call) -> dict[str, Any]:
    market = call.sim.market
    spec = market.specs.get(call.required("symbol"))
    if spec is None:
        raise Refusal(Retcode.ERR_NOTFOUND, "no such symbol")
    return {
        "answer": {
            "Symbol": spec.name,
            "Path": f"Simulated\\{spec.name}",
            "CurrencyBase": spec.name[:3] if spec.digits == 5 else spec.name,
            "CurrencyProfit": "USD",
            "CurrencyMargin": spec.name[:3] if spec.digits == 5 else "USD",
            "Digits": str(spec.digits),
            "Point": f"{spec.point:f}",
            "Spread": str(spec.spread_points),
            "ContractSize": f"{spec.contract_size:.2f}",
            "VolumeMin": "100",
            "VolumeMax": "10000000",
            "VolumeStep": "100",
        }
    }


@command("/api/tick/last")
def tick_last(call: Call) -> dict[str, Any]:
    sim = call.sim
    names = [s for s in (call.param("symbol") or "").split(",") if s]
    if not names:
        raise Refusal(Retcode.ERR_PARAMS, "symbol is required")
    msc = sim.server_msc()
    ticks = []
    for name in names:
        if name in sim.market.specs:
            quote = sim.market.quote(name)
            ticks.append(
                {
                    "Symbol": name,
                    "Digits": str(quote.digits),
                    "Datetime": str(msc // 1000),
                    "DatetimeMsc": str(msc),
                    "Bid": fmt_price(quote.bid, quote.digits),
                    "Ask": fmt_price(quote.ask, quote.digits),
                    "Last": "0",
                    "Volume": "0",
                    "VolumeReal": "0",
                }
            )
    return {"answer": ticks, "trans_id": str(sim.market.ticks)}
