"""Users, trade state and balance operations on the simulator, over raw HTTP."""

from __future__ import annotations

from typing import Any

from mt5kit import GROUP, PASSWORDS, Wire

from propdesk_mt5.simulator import RunningSimulator


def _all_strings(record: dict[str, Any]) -> bool:
    return all(isinstance(v, str) for k, v in record.items() if k != "ApiData")


async def test_user_add_allocates_logins_and_answers_strings(wire: Wire) -> None:
    reply = await wire.post(
        "user/add",
        {**PASSWORDS, "FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"},
        group=GROUP,
        name="Ada Lovelace",
        leverage=100,
    )
    assert list(reply)[:3] == ["retcode", "login", "answer"]
    assert reply["retcode"] == "0 Done" and reply["login"] == "500000"
    user = reply["answer"]
    assert user["Login"] == "500000" and user["Group"] == GROUP
    assert user["Rights"] == "355" and user["Leverage"] == "100"
    assert user["Balance"] == "0.00" and user["Email"] == "ada@example.com"
    assert "PassMain" not in user and _all_strings(user)
    assert await wire.add_user() == 500001
    explicit = await wire.post(
        "user/add", PASSWORDS, group=GROUP, name="X", leverage=50, login=777001, rights=483
    )
    assert explicit["login"] == "777001" and explicit["answer"]["Rights"] == "483"
    again = await wire.post("user/add", PASSWORDS, group=GROUP, name="X", leverage=50, login=777001)
    assert again == {"retcode": "3004 Account already exists"}
    manager = await wire.post("user/add", PASSWORDS, group=GROUP, name="X", leverage=50, login=1000)
    assert manager["retcode"] == "3004 Account already exists"


async def test_user_add_refuses_weak_passwords_and_bad_parameters(wire: Wire) -> None:
    weak = ["Sh1!abc", "alllower1!", "ALLUPPER1!", "NoDigits!!", "NoSpecial12", "Aa1!" * 5]
    for password in weak:
        body = {"PassMain": password, "PassInvestor": PASSWORDS["PassInvestor"]}
        reply = await wire.post("user/add", body, group=GROUP, name="X", leverage=100)
        assert reply == {"retcode": "3006 Invalid account password"}, password
    body = {**PASSWORDS, "PassMain": "Short1!A"}
    ok = await wire.post("user/add", body, group=GROUP, name="X", leverage=100)
    assert ok["retcode"] == "0 Done"  # 8 characters is enough
    unknown_group = await wire.post("user/add", PASSWORDS, group="no\\such", name="X", leverage=1)
    assert unknown_group == {"retcode": "3 Invalid parameters"}
    no_passwords = await wire.post("user/add", {}, group=GROUP, name="X", leverage=100)
    assert no_passwords == {"retcode": "3 Invalid parameters"}
    in_query = await wire.get(
        "user/add", group=GROUP, name="X", leverage=100, pass_main="Trader#2024"
    )
    assert in_query == {"retcode": "3 Invalid parameters"}  # passwords go in the body


async def test_the_body_overrides_the_query_and_any_content_type_works(wire: Wire) -> None:
    body = b'{"PassMain":"Trader#2024","PassInvestor":"Invest#2024","Group":"real\\\\funded"}'
    response = await wire.http.post(
        "/api/user/add",
        params={"group": GROUP, "name": "Y", "leverage": "30"},
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    user = response.json()["answer"]
    assert user["Group"] == "real\\funded" and user["Leverage"] == "30"


async def test_get_batch_and_logins_with_group_masks(wire: Wire) -> None:
    a = await wire.add_user("demo\\challenge-phase1")
    b = await wire.add_user("demo\\challenge-phase2")
    c = await wire.add_user("real\\funded")
    got = await wire.get("user/get", login=b)
    assert got["answer"]["Login"] == str(b)
    assert await wire.get("user/get", login=999) == {"retcode": "13 Not found"}
    batch = await wire.get("user/get_batch", login=f"{a},{c},999")
    assert [u["Login"] for u in batch["answer"]] == [str(a), str(c)]
    masked = await wire.get("user/get_batch", group="demo\\*,!*phase2")
    assert [u["Login"] for u in masked["answer"]] == [str(a)]
    logins = await wire.get("user/logins", group="*")
    assert logins["answer"] == [str(a), str(b), str(c)]
    assert (await wire.get("user/logins", group="real\\*"))["answer"] == [str(c)]
    assert (await wire.get("user/get_batch"))["retcode"] == "3 Invalid parameters"


async def test_update_changes_rights_and_group(wire: Wire) -> None:
    login = await wire.add_user()
    reply = await wire.post(
        "user/update",
        {"Rights": "359", "Group": "real\\funded", "Comment": "breached"},
        login=login,
    )
    assert reply["retcode"] == "0 Done"
    user = reply["answer"]
    assert (user["Rights"], user["Group"], user["Comment"]) == ("359", "real\\funded", "breached")
    ignored = await wire.post("user/update", {"Leverage": "abc"}, login=login, rights=6)
    assert ignored["answer"]["Rights"] == "6" and ignored["answer"]["Leverage"] == "100"
    assert await wire.post("user/update", {"Rights": "6"}, login=424242) == {
        "retcode": "13 Not found"
    }


async def test_passwords_can_be_checked_and_changed(wire: Wire) -> None:
    login = await wire.add_user()
    ok = await wire.get("user/check_password", login=login, type="main", password="Trader#2024")
    assert ok == {"retcode": "0 Done"}
    bad = await wire.get("user/check_password", login=login, type="investor", password="x")
    assert bad == {"retcode": "3006 Invalid account password"}
    weak = await wire.post("user/change_password", {"Password": "weak"}, login=login, type="main")
    assert weak == {"retcode": "3006 Invalid account password"}
    changed = await wire.post(
        "user/change_password", {"Password": "Better#2025"}, login=login, type="main"
    )
    assert changed == {"retcode": "0 Done"}
    ok = await wire.get("user/check_password", login=login, type="main", password="Better#2025")
    assert ok == {"retcode": "0 Done"}


async def test_delete_refuses_accounts_with_positions(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await wire.deposit(login, "10000")
    order = await sim.control.open_order(login, "EURUSD", "buy", "0.10")
    assert await wire.get("user/delete", login=login) == {"retcode": "3008 Account has open trades"}
    await sim.control.close_position(login, order["position"])
    assert await wire.get("user/delete", login=login) == {"retcode": "0 Done"}
    assert await wire.get("user/get", login=login) == {"retcode": "13 Not found"}
    assert await wire.get("user/delete", login=login) == {"retcode": "13 Not found"}


async def test_balance_operations_make_deals(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    long_comment = "crm:7f3a9c12-" + "x" * 40
    ticket = await wire.deposit(login, "25000.5", long_comment)
    deal = (await wire.get("deal/get", ticket=ticket))["answer"]
    assert deal["Action"] == "2" and deal["Symbol"] == "" and deal["Login"] == str(login)
    assert deal["Profit"] == "25000.50" and deal["Dealer"] == "1000"
    assert deal["Comment"] == long_comment[:31] and len(deal["Comment"]) == 31
    assert _all_strings(deal)
    credit = await wire.get("trade/balance", login=login, type=3, balance="500", comment="c")
    assert credit["retcode"] == "0 Done" and int(credit["answer"]["Ticket"]) > ticket
    user = (await wire.get("user/get", login=login))["answer"]
    assert (user["Balance"], user["Credit"]) == ("25000.50", "500.00")
    too_much = await wire.get("trade/balance", login=login, type=2, balance="-25000.51")
    assert too_much == {"retcode": "10019 Not enough money"}
    forced = await wire.get(
        "trade/balance", login=login, type=2, balance="-25000.51", check_margin=0
    )
    assert forced["retcode"] == "0 Done"
    huge = await wire.get("trade/balance", login=login, type=2, balance="1000000001")
    assert huge == {"retcode": "4005 Money limit reached"}
    unknown = await wire.get("trade/balance", login=4242, type=2, balance="1")
    assert unknown == {"retcode": "13 Not found"}
    for params in ({"type": 7, "balance": "1"}, {"type": 2, "balance": "abc"}, {"type": 2}):
        reply = await wire.get("trade/balance", login=login, **params)
        assert reply == {"retcode": "3 Invalid parameters"}, params
    view = await sim.control.account(login)
    assert view["user"]["Balance"] == "-0.01" and view["balance_ops"] == "499.99"


async def test_withdrawals_are_limited_by_free_margin(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user(leverage=10)
    await wire.deposit(login, "20000")
    await sim.control.open_order(login, "EURUSD", "buy", "1.00")  # margin ≈ 10851
    reply = await wire.get("trade/balance", login=login, type=2, balance="-10000")
    assert reply == {"retcode": "10019 Not enough money"}
    reply = await wire.get("trade/balance", login=login, type=2, balance="-5000")
    assert reply["retcode"] == "0 Done"


async def test_trade_state_exists_only_after_trading(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await wire.deposit(login, "100000")
    assert await wire.get("user/account/get", login=login) == {"retcode": "13 Not found"}
    assert (await wire.get("user/account/get_batch", login=login))["answer"] == []
    user = (await wire.get("user/get", login=login))["answer"]
    assert user["Balance"] == "100000.00"
    await sim.control.set_prices({"EURUSD": "1.10000"})
    await sim.control.open_order(login, "EURUSD", "buy", "1.00")
    account = (await wire.get("user/account/get", login=login))["answer"]
    assert account["Balance"] == "100000.00"
    assert account["Profit"] == "-10.00" and account["Equity"] == "99990.00"
    assert account["Margin"] == "1100.10" and account["MarginFree"] == "98889.90"
    assert account["MarginLevel"] == "9089.17" and account["MarginLeverage"] == "100"
    assert _all_strings(account)
    batch = await wire.get("user/account/get_batch", group="demo\\*")
    assert [a["Login"] for a in batch["answer"]] == [str(login)]
