"""Positions, deals, margin, stop-out and dealer requests on the simulator, over raw HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from mt5kit import GROUP, Wire

from propdesk_mt5.simulator import RunningSimulator


async def _funded(
    sim: RunningSimulator, wire: Wire, amount: str = "100000", group: str = GROUP
) -> int:
    login = await wire.add_user(group)
    await wire.deposit(login, amount)
    await sim.control.set_prices({"EURUSD": "1.10000", "GBPUSD": "1.25000", "XAUUSD": "2350.00"})
    return login


async def test_positions_and_floating_profit(sim: RunningSimulator, wire: Wire) -> None:
    login = await _funded(sim, wire)
    buy = await sim.control.open_order(login, "EURUSD", "buy", "1.00")
    assert buy["retcode"] == "10009 Request executed" and buy["price"] == "1.10010"
    sell = await sim.control.open_order(login, "GBPUSD", "sell", "0.50")
    assert sell["price"] == "1.25000"
    await sim.control.set_prices({"EURUSD": "1.10510", "GBPUSD": "1.24800"})

    assert (await wire.get("position/get_total", login=login))["answer"] == {"total": "2"}
    eur = (await wire.get("position/get", login=login, symbol="EURUSD"))["answer"]
    assert eur["Position"] == buy["position"] and eur["Action"] == "0"
    assert (eur["PriceOpen"], eur["PriceCurrent"], eur["Profit"]) == (
        "1.10010",
        "1.10510",
        "500.00",
    )
    assert (eur["Volume"], eur["VolumeExt"], eur["Digits"]) == ("10000", "100000000", "5")
    assert all(isinstance(v, str) for v in eur.values())
    page = await wire.get("position/get_page", login=login, offset=1, total=1)
    assert [p["Symbol"] for p in page["answer"]] == ["GBPUSD"]
    gbp = page["answer"][0]
    assert gbp["Action"] == "1" and gbp["PriceCurrent"] == "1.24815" and gbp["Profit"] == "92.50"
    too_many = await wire.get("position/get_page", login=login, offset=0, total=101)
    assert too_many == {"retcode": "3 Invalid parameters"}
    by_group = await wire.get("position/get_batch", group="demo\\*", symbol="GBPUSD")
    assert [p["Position"] for p in by_group["answer"]] == [sell["position"]]
    by_ticket = await wire.get("position/get_batch", ticket=buy["position"])
    assert [p["Symbol"] for p in by_ticket["answer"]] == ["EURUSD"]
    both = await wire.get("position/get_batch", login=login, group="*")
    assert both == {"retcode": "3 Invalid parameters"}
    nothing = await wire.get("position/get", login=login, symbol="XAUUSD")
    assert nothing == {"retcode": "13 Not found"}

    account = (await wire.get("user/account/get", login=login))["answer"]
    assert (account["Floating"], account["Equity"]) == ("592.50", "100592.50")


async def test_partial_close_realises_profit(sim: RunningSimulator, wire: Wire) -> None:
    login = await _funded(sim, wire)
    buy = await sim.control.open_order(login, "EURUSD", "buy", "1.00")
    await sim.control.set_prices({"EURUSD": "1.10510"})
    closed = await sim.control.close_position(login, buy["position"], "0.40")
    assert closed["retcode"] == "10009 Request executed" and closed["remaining"] == "6000"
    deal = (await wire.get("deal/get", ticket=closed["deal"]))["answer"]
    assert (deal["Action"], deal["Entry"], deal["Reason"]) == ("1", "1", "0")
    assert (deal["Volume"], deal["VolumeClosed"], deal["Profit"]) == ("4000", "4000", "200.00")
    assert deal["PositionID"] == buy["position"] and deal["PricePosition"] == "1.10010"
    assert deal["Price"] == "1.10510" and deal["Value"] == "44204.00"
    position = (await wire.get("position/get", login=login, symbol="EURUSD"))["answer"]
    assert position["Volume"] == "6000" and position["Profit"] == "300.00"
    assert (await wire.get("user/get", login=login))["answer"]["Balance"] == "100200.00"
    unknown = await sim.control.close_position(login, 42)
    assert unknown == {"retcode": "10013 Invalid request"}
    too_big = await sim.control.close_position(login, buy["position"], "0.70")
    assert too_big == {"retcode": "10014 Invalid volume"}


async def test_commission_is_charged_per_lot_and_side(sim: RunningSimulator, wire: Wire) -> None:
    await sim.control.add_group("demo\\commission", commission_per_lot="3.5")
    login = await _funded(sim, wire, "10000", group="demo\\commission")
    order = await sim.control.open_order(login, "EURUSD", "buy", "2.00")
    opening = (await wire.get("deal/get", ticket=order["deal"]))["answer"]
    assert opening["Commission"] == "-7.00" and opening["Entry"] == "0"
    closed = await sim.control.close_position(login, order["position"])
    closing = (await wire.get("deal/get", ticket=closed["deal"]))["answer"]
    assert closing["Commission"] == "-7.00" and closing["Profit"] == "-20.00"
    assert (await wire.get("user/get", login=login))["answer"]["Balance"] == "9966.00"


async def test_stop_out_closes_the_most_losing_position(sim: RunningSimulator, wire: Wire) -> None:
    login = await _funded(sim, wire, "1000")
    eur = await sim.control.open_order(login, "EURUSD", "buy", "0.50")
    gold = await sim.control.open_order(login, "XAUUSD", "buy", "0.01")
    await sim.control.set_prices({"EURUSD": "1.09100"})
    account = (await wire.get("user/account/get", login=login))["answer"]
    assert account["SOActivation"] == "1" and account["Equity"] == "544.70"  # margin call
    await sim.control.set_prices({"EURUSD": "1.08500"})
    positions = (await wire.get("position/get_batch", login=login))["answer"]
    assert [p["Position"] for p in positions] == [gold["position"]]
    deals = (await wire.get("deal/get_batch", login=login, **_window()))["answer"]
    stop_out = deals[-1]
    assert (stop_out["Reason"], stop_out["Entry"], stop_out["PositionID"]) == (
        "5",
        "1",
        eur["position"],
    )
    assert stop_out["Profit"] == "-755.00" and stop_out["Price"] == "1.08500"
    account = (await wire.get("user/account/get", login=login))["answer"]
    assert account["Balance"] == "245.00" and account["SOActivation"] == "2"
    assert account["SOLevel"] == "43.23" and account["SOEquity"] == "244.70"


def _window(seconds: int = 86_400) -> dict[str, int]:
    now = int(datetime.now(UTC).timestamp()) + 7200
    return {"from": now - seconds, "to": now + seconds}


async def test_trader_orders_follow_rights_and_money(sim: RunningSimulator, wire: Wire) -> None:
    login = await _funded(sim, wire, "1000")
    order = await sim.control.open_order(login, "EURUSD", "buy", "0.01")
    assert order["retcode"] == "10009 Request executed"
    refusals = {
        "10019 Not enough money": ("EURUSD", "10.00"),
        "10021 No prices": ("NOPE", "0.01"),
        "10014 Invalid volume": ("EURUSD", "0.001"),
    }
    for retcode, (symbol, volume) in refusals.items():
        assert await sim.control.open_order(login, symbol, "buy", volume) == {"retcode": retcode}
    for rights in ("359", "867", "354"):  # TRADE_DISABLED, READONLY, not ENABLED
        await wire.post("user/update", {"Rights": rights}, login=login)
        refused = await sim.control.open_order(login, "EURUSD", "buy", "0.01")
        assert refused == {"retcode": "10017 Trade disabled"}, rights
        closing = await sim.control.close_position(login, order["position"])
        assert closing == {"retcode": "10017 Trade disabled"}, rights
        assert (await sim.control.account(login))["can_trade"] is False
    await wire.post("user/update", {"Rights": "355"}, login=login)
    assert (await sim.control.open_order(login, "EURUSD", "sell", "0.01"))["retcode"] == (
        "10009 Request executed"
    )


async def test_dealer_closes_positions_of_disabled_accounts(
    sim: RunningSimulator, wire: Wire
) -> None:
    login = await _funded(sim, wire)
    order = await sim.control.open_order(login, "EURUSD", "buy", "1.00")
    await wire.post("user/update", {"Rights": "359"}, login=login)
    request = {
        "Action": "200",
        "Login": str(login),
        "Symbol": "EURUSD",
        "Volume": "10000",
        "TypeFill": "0",
        "Type": "1",
        "Position": order["position"],
        "PriceOrder": "1.10000",
        "Digits": "5",
    }
    sent = await wire.post("dealer/send_request", request)
    assert sent["retcode"] == "0 Done"
    request_id = sent["answer"]["ID"]
    first = await wire.get("dealer/get_request_result", id=request_id)
    assert first["retcode"] == "0 Done"
    result, answer = first[request_id]
    assert result["result"]["Retcode"] == "10002 Request accepted"
    assert answer["answer"]["Position"] == order["position"]
    assert (await wire.get("position/get_total", login=login))["answer"]["total"] == "1"
    await sim.control.set_prices({"EURUSD": "1.10200"})
    second = (await wire.get("dealer/get_request_result", id=request_id))[request_id]
    done = second[0]["result"]
    assert done["Retcode"] == "10009 Request executed"
    assert (done["Price"], done["Volume"]) == ("1.10200", "10000")
    deal = (await wire.get("deal/get", ticket=done["Deal"]))["answer"]
    assert (deal["Reason"], deal["Entry"], deal["Dealer"], deal["Profit"]) == (
        "2",
        "1",
        "1000",
        "190.00",
    )
    assert deal["Order"] == done["Order"]
    assert (await wire.get("position/get_total", login=login))["answer"]["total"] == "0"
    third = (await wire.get("dealer/get_request_result", id=request_id))[request_id]
    assert third[0]["result"]["Deal"] == done["Deal"]


async def test_dealer_refuses_what_it_cannot_close(sim: RunningSimulator, wire: Wire) -> None:
    login = await _funded(sim, wire)
    order = await sim.control.open_order(login, "EURUSD", "buy", "1.00")
    base = {"Action": "200", "Login": str(login), "Symbol": "EURUSD", "Volume": "10000"}
    wrong_side = base | {"Type": "0", "Position": order["position"]}
    same_side = await wire.post("dealer/send_request", wrong_side)
    unknown = await wire.post("dealer/send_request", base | {"Type": "1", "Position": "42"})
    ids = f"{same_side['answer']['ID']},{unknown['answer']['ID']}"
    await wire.get("dealer/get_request_result", id=ids)
    results = await wire.get("dealer/get_request_result", id=ids)
    for request_id in ids.split(","):
        assert results[request_id][0]["result"]["Retcode"] == "10013 Invalid request"
    assert (await wire.get("dealer/get_request_result", id="999999")) == {"retcode": "13 Not found"}
    broken = await wire.post("dealer/send_request", {"Action": "200"})
    assert broken == {"retcode": "3 Invalid parameters"}


async def test_deal_batches_filter_by_selector_time_and_symbol(
    sim: RunningSimulator, wire: Wire
) -> None:
    first = await _funded(sim, wire)
    second = await _funded(sim, wire, group="real\\funded")
    order = await sim.control.open_order(first, "EURUSD", "buy", "0.10")
    await sim.control.close_position(first, order["position"])
    early = int((await wire.get("time/server"))["answer"]["time"].split()[0])
    await sim.control.advance_clock(1000)
    late_ticket = await wire.deposit(first, "5")

    window = {"from": early - 60, "to": early + 60}
    deals = (await wire.get("deal/get_batch", login=first, **window))["answer"]
    assert [d["Action"] for d in deals] == ["2", "0", "1"]
    tickets = [int(d["Deal"]) for d in deals]
    assert tickets == sorted(tickets) and len(set(tickets)) == 3
    assert all(abs(int(d["Time"]) - early) <= 2 for d in deals)
    assert all(int(d["TimeMsc"]) // 1000 == int(d["Time"]) for d in deals)
    late = (await wire.get("deal/get_batch", login=first, **_window(5000)))["answer"]
    assert int(late[-1]["Deal"]) == late_ticket and int(late[-1]["Time"]) >= early + 1000
    trades = await wire.get("deal/get_batch", login=f"{first},{second}", symbol="EURUSD", **window)
    assert [d["Entry"] for d in trades["answer"]] == ["0", "1"]
    grouped = await wire.get("deal/get_batch", group="*,!real\\*", **_window(5000))
    assert {d["Login"] for d in grouped["answer"]} == {str(first)}
    by_ticket = await wire.get("deal/get_batch", ticket=f"{tickets[0]},{late_ticket}")
    assert [int(d["Deal"]) for d in by_ticket["answer"]] == [tickets[0], late_ticket]
    for params in (
        {"login": first},
        {"login": first, "from": early},
        {"group": "*", "to": early},
        {"login": first, "group": "*", **window},
        window,
    ):
        reply = await wire.get("deal/get_batch", **params)
        assert reply == {"retcode": "3 Invalid parameters"}, params
    total = await wire.get("deal/get_total", login=first, **window)
    assert total["answer"] == {"total": "3"}
    page = await wire.get("deal/get_page", login=first, offset=1, total=1, **window)
    assert [d["Action"] for d in page["answer"]] == ["0"]
    assert (await wire.get("deal/get_total", login=first))["retcode"] == "3 Invalid parameters"


async def test_previous_day_values_roll_at_server_midnight(
    sim: RunningSimulator, wire: Wire
) -> None:
    login = await _funded(sim, wire, "10000")
    await sim.control.open_order(login, "EURUSD", "buy", "1.00")
    await sim.control.set_prices({"EURUSD": "1.09900"})
    user = (await wire.get("user/get", login=login))["answer"]
    assert (user["BalancePrevDay"], user["EquityPrevDay"]) == ("0.00", "0.00")
    server_now = int((await wire.get("time/server"))["answer"]["time"].split()[0])
    await sim.control.advance_clock(86_400 - server_now % 86_400 + 1)
    user = (await wire.get("user/get", login=login))["answer"]
    assert (user["BalancePrevDay"], user["EquityPrevDay"]) == ("10000.00", "9890.00")
    assert user["Balance"] == "10000.00"


async def test_prices_keep_their_symbol_digits(sim: RunningSimulator, wire: Wire) -> None:
    login = await _funded(sim, wire)
    await sim.control.set_prices({"US30": "39000.04"})
    gold = await sim.control.open_order(login, "XAUUSD", "buy", "0.10")
    index = await sim.control.open_order(login, "US30", "sell", "1.00")
    assert (gold["price"], index["price"]) == ("2350.30", "39000.0")
    ticks = await wire.get("tick/last", symbol="US30,XAUUSD")
    assert [(t["Symbol"], t["Bid"], t["Ask"]) for t in ticks["answer"]] == [
        ("US30", "39000.0", "39002.0"),
        ("XAUUSD", "2350.00", "2350.30"),
    ]
