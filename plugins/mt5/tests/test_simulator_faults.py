"""Fault injection and the request log of the simulator."""

from __future__ import annotations

import time

import httpx
import pytest
from mt5kit import Wire

from propdesk_mt5.simulator import RunningSimulator

BALANCE = "/api/trade/balance"


async def _deposit(wire: Wire, login: int, comment: str) -> dict[str, object]:
    return await wire.get("trade/balance", login=login, type=2, balance="100", comment=comment)


async def test_drop_after_applies_but_the_client_sees_no_answer(
    sim: RunningSimulator, wire: Wire
) -> None:
    login = await wire.add_user()
    await sim.control.add_fault(BALANCE, "drop_after")
    with pytest.raises(httpx.RemoteProtocolError):
        await _deposit(wire, login, "crm:lost-answer")
    view = await sim.control.account(login)
    assert view["user"]["Balance"] == "100.00"
    # The connection is gone: the next one is a new, unauthenticated session.
    assert await wire.get("test/access") == {"retcode": "8 Not enough permissions"}
    assert (await wire.login())["retcode"] == "0 Done"
    assert (await _deposit(wire, login, "crm:retry"))["retcode"] == "0 Done"
    log = await sim.control.requests(path=BALANCE)
    assert [(r["applied"], r["fault"], r["retcode"]) for r in log] == [
        (True, "drop_after", "0 Done"),
        (True, None, "0 Done"),
    ]
    assert log[0]["query"]["comment"] == "crm:lost-answer"


async def test_drop_before_applies_nothing(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await sim.control.add_fault(BALANCE, "drop_before")
    with pytest.raises(httpx.RemoteProtocolError):
        await _deposit(wire, login, "crm:never-arrived")
    view = await sim.control.account(login)
    assert view["user"]["Balance"] == "0.00" and view["balance_ops"] == "0.00"
    log = await sim.control.requests(path=BALANCE)
    assert [(r["applied"], r["fault"]) for r in log] == [(False, "drop_before")]


async def test_retcode_faults_answer_without_applying(sim: RunningSimulator, wire: Wire) -> None:
    login = await wire.add_user()
    await sim.control.add_fault(BALANCE, "retcode", count=2, retcode="12 Too frequent requests")
    assert await _deposit(wire, login, "a") == {"retcode": "12 Too frequent requests"}
    await sim.control.add_fault("/api/user/get", "retcode", retcode=9)
    assert await wire.get("user/get", login=login) == {"retcode": "9 Operation timeout"}
    assert await _deposit(wire, login, "b") == {"retcode": "12 Too frequent requests"}
    assert (await _deposit(wire, login, "c"))["retcode"] == "0 Done"
    assert (await sim.control.account(login))["user"]["Balance"] == "100.00"
    assert await sim.control.faults() == []


async def test_delay_and_clearing_faults(sim: RunningSimulator, wire: Wire) -> None:
    await sim.control.add_fault("/api/test/access", "delay", seconds=0.3)
    started = time.monotonic()
    assert await wire.get("test/access") == {"retcode": "0 Done"}
    assert time.monotonic() - started >= 0.3
    await sim.control.add_fault("*", "retcode", count=0, retcode="10 No connection")
    assert await wire.get("test/access") == {"retcode": "10 No connection"}
    assert await wire.get("time/server") == {"retcode": "10 No connection"}
    await sim.control.clear_faults()
    assert await wire.get("test/access") == {"retcode": "0 Done"}
    bad = await sim.control._http().post("/faults", json={"path": "*", "action": "explode"})
    assert bad.status_code == 400


async def test_the_request_log_masks_passwords(sim: RunningSimulator, wire: Wire) -> None:
    await wire.add_user()
    log = await sim.control.requests(path="/api/user/add")
    assert len(log) == 1
    entry = log[0]
    assert (
        entry["body"]["PassMain"] == "***" and entry["query"]["group"] == "demo\\challenge-phase1"
    )
    assert entry["manager"] == 1000 and entry["retcode"] == "0 Done"
    everything = await sim.control.requests()
    assert [e["path"] for e in everything][:2] == ["/api/auth/start", "/api/auth/answer"]
    await sim.control.clear_requests()
    assert await sim.control.requests() == []


async def test_an_unparseable_body_is_invalid(wire: Wire) -> None:
    response = await wire.http.post("/api/user/add?group=x", content=b"{not json")
    assert response.json() == {"retcode": "3 Invalid parameters"}
