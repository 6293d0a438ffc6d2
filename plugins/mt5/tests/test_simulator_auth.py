"""The simulator's handshake and sessions, over raw HTTP."""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from mt5kit import MANAGER, Wire

from propdesk_mt5.protocol import password_hash, rand_answer
from propdesk_mt5.simulator import RunningSimulator, SimulatorConfig, running_simulator


def test_the_official_vectors_hold() -> None:
    hashed = password_hash("Password1")
    assert hashed.hex() == "904ba8ecb16273d2f0ae9c3b8a023752"
    assert rand_answer(hashed, "73007dc7184747ce0f7c98516ef1c851") == (
        "77fe51827f7fa69dd80fbec9aa33f1bb"
    )
    assert rand_answer(hashed, "4db98fec17aab4dc5a240bdc659e8395") == (
        "1732021b1b332f51660b2b315eed3a35"
    )


async def test_handshake_with_the_official_password(sim: RunningSimulator) -> None:
    await sim.control.add_manager(1001, "Password1")
    wire = Wire(sim.url)
    try:
        started = await wire.start(1001)
        assert list(started) == ["retcode", "version_access", "srv_rand"]
        assert started["retcode"] == "0 Done"
        assert re.fullmatch(r"[0-9a-f]{32}", started["srv_rand"])
        hashed = password_hash("Password1")
        cli_rand = "4db98fec17aab4dc5a240bdc659e8395"
        answered = await wire.get(
            "auth/answer",
            srv_rand_answer=rand_answer(hashed, started["srv_rand"]),
            cli_rand=cli_rand,
        )
        assert answered == {
            "retcode": "0 Done",
            "version_access": "1290",
            "version_trade": "1290",
            "cli_rand_answer": "1732021b1b332f51660b2b315eed3a35",
        }
        assert await wire.get("test/access") == {"retcode": "0 Done"}
    finally:
        await wire.aclose()


async def test_a_wrong_password_is_an_invalid_account(sim: RunningSimulator) -> None:
    wire = Wire(sim.url)
    try:
        assert (await wire.login(password="Manager#2"))["retcode"] == "1001 Invalid account"
        assert await wire.get("test/access") == {"retcode": "8 Not enough permissions"}
        # An unknown manager still gets a challenge, and fails at the answer.
        started = await wire.start(4242)
        assert started["retcode"] == "0 Done" and len(started["srv_rand"]) == 32
        assert (await wire.login(4242, "Manager#1"))["retcode"] == "1001 Invalid account"
        # The session can still authenticate properly afterwards.
        assert (await wire.login())["retcode"] == "0 Done"
    finally:
        await wire.aclose()


async def test_commands_before_auth_need_permissions(sim: RunningSimulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        for command in ("test/access", "user/get?login=500000", "trade/balance", "time/server"):
            response = await http.get(f"/api/{command}")
            assert response.status_code == 200
            assert response.json() == {"retcode": "8 Not enough permissions"}
        response = await http.post("/api/user/add?group=x", content=b"{}")
        assert response.json() == {"retcode": "8 Not enough permissions"}


async def test_start_checks_its_parameters(sim: RunningSimulator) -> None:
    wire = Wire(sim.url)
    base: dict[str, object] = {"version": 5200, "agent": "tests", "login": MANAGER}
    base["type"] = "manager"
    try:
        cases: list[tuple[dict[str, object], str]] = [
            ({"version": 483}, "1010 Client has old version"),
            ({"agent": "has space"}, "3 Invalid parameters"),
            ({"agent": ""}, "3 Invalid parameters"),
            ({"type": "client"}, "3 Invalid parameters"),
            ({"login": "abc"}, "3 Invalid parameters"),
        ]
        for change, retcode in cases:
            assert (await wire.get("auth/start", **(base | change)))["retcode"] == retcode
        answered = await wire.get("auth/answer", srv_rand_answer="00", cli_rand="11" * 16)
        assert answered["retcode"] == "3 Invalid parameters"  # no auth/start before it
    finally:
        await wire.aclose()


async def test_a_new_connection_needs_auth_again(sim: RunningSimulator) -> None:
    first, second = Wire(sim.url), Wire(sim.url)
    try:
        assert (await first.login())["retcode"] == "0 Done"
        assert await second.get("test/access") == {"retcode": "8 Not enough permissions"}
        assert await first.get("test/access") == {"retcode": "0 Done"}
        assert (await sim.control.sessions())["authenticated"] == 1
    finally:
        await first.aclose()
        await second.aclose()
    third = Wire(sim.url)
    try:
        assert await third.get("test/access") == {"retcode": "8 Not enough permissions"}
    finally:
        await third.aclose()


async def test_quit_ends_the_session(wire: Wire) -> None:
    assert await wire.get("quit") == {"retcode": "0 Done"}
    assert await wire.get("test/access") == {"retcode": "8 Not enough permissions"}


async def test_sessions_expire(sim: RunningSimulator, wire: Wire) -> None:
    assert await sim.control.expire_sessions() == 1
    assert await wire.get("test/access") == {"retcode": "8 Not enough permissions"}
    assert (await wire.login())["retcode"] == "0 Done"
    # The simulated clock is business time: advancing it does not idle the connection out.
    await sim.control.advance_clock(3600)
    assert await wire.get("test/access") == {"retcode": "0 Done"}


async def test_idle_sessions_are_forgotten() -> None:
    with running_simulator(SimulatorConfig(idle_timeout_seconds=0.5)) as sim:
        wire = Wire(sim.url)
        try:
            assert (await wire.login())["retcode"] == "0 Done"
            await asyncio.sleep(0.3)
            assert await wire.get("test/access") == {"retcode": "0 Done"}
            await asyncio.sleep(0.7)
            assert await wire.get("test/access") == {"retcode": "8 Not enough permissions"}
        finally:
            await wire.aclose()
            await sim.control.aclose()


async def test_the_answer_must_come_within_ten_seconds(sim: RunningSimulator) -> None:
    wire = Wire(sim.url)
    try:
        started = await wire.start()
        await sim.control.advance_clock(11)
        answer = rand_answer(password_hash("Manager#1"), started["srv_rand"])
        answered = await wire.get("auth/answer", srv_rand_answer=answer, cli_rand="ab" * 16)
        assert answered == {"retcode": "9 Operation timeout"}
        assert await wire.get("test/access") == {"retcode": "8 Not enough permissions"}
        started = await wire.start()
        await sim.control.advance_clock(9)
        answer = rand_answer(password_hash("Manager#1"), started["srv_rand"])
        answered = await wire.get("auth/answer", srv_rand_answer=answer, cli_rand="ab" * 16)
        assert answered["retcode"] == "0 Done"
    finally:
        await wire.aclose()


async def test_a_session_cookie_follows_the_client(sim: RunningSimulator) -> None:
    token = secrets.token_hex(8)
    first = Wire(sim.url, cookies={"MT5Session": token})
    second = Wire(sim.url, cookies={"MT5Session": token})
    try:
        assert (await first.login())["retcode"] == "0 Done"
        assert await second.get("test/access") == {"retcode": "0 Done"}
    finally:
        await first.aclose()
        await second.aclose()


async def test_server_time_is_in_the_server_zone(wire: Wire) -> None:
    reply = await wire.get("time/server")
    seconds, _, text = reply["answer"]["time"].partition(" ")
    utc_now = datetime.now(UTC).timestamp()
    assert abs(int(seconds) - utc_now - 7200) < 5
    assert re.fullmatch(r"\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d", text)
    assert datetime.strptime(text, "%Y.%m.%d %H:%M:%S").replace(tzinfo=UTC).timestamp() == int(
        seconds
    )
    config = (await wire.get("time/get"))["answer"]
    assert config == {
        "Daylight": "0",
        "DaylightState": "0",
        "TimeZone": "120",
        "TimeServer": "",
        "Days": [],
    }


async def test_unknown_commands_are_not_found(wire: Wire) -> None:
    response = await wire.http.get("/api/no/such/command")
    assert response.status_code == 404
    assert response.json() == {"retcode": "13 Not found"}


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


async def test_it_serves_https_like_a_real_server(certificate: tuple[str, str]) -> None:
    cert, key = certificate
    with running_simulator(SimulatorConfig(certfile=cert, keyfile=key)) as sim:
        assert sim.url.startswith("https://127.0.0.1:")
        async with httpx.AsyncClient(
            base_url=sim.url, verify=ssl.create_default_context(cafile=cert)
        ) as http:
            response = await http.get("/api/test/access")
            assert response.json() == {"retcode": "8 Not enough permissions"}
        assert (await sim.control.health())["status"] == "ok"
        await sim.control.aclose()
